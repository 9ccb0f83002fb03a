/**
 * The Docker backend: a bottle's whole lifecycle on one Docker engine. Keeps the bottle's state
 * folder in step with the engine (status in metadata.json, workspace saved on stop). Each part
 * lives in its own file: starting (start-bottle.ts), stopping (stop-bottle.ts), listing
 * (bottle-list.ts), cleanup (leftovers.ts); this class holds them together for the CLI.
 */
import type { BackendContext } from "./backend-context.js";
import { homeTagOf, knownMetadata } from "./backend-context.js";
import { buildPendingImage, waitWhileRestarting } from "./bottle-image.js";
import type { BottleSummary } from "./bottle-list.js";
import { isRebuildPending, listBottles } from "./bottle-list.js";
import type { Progress } from "./build-image.js";
import type { EngineClient } from "./engine-client.js";
import { findBottleObjects } from "./engine-objects.js";
import type { ExecOutput } from "./exec.js";
import { execInContainer, execInteractive } from "./exec.js";
import type { Leftovers } from "./leftovers.js";
import { findLeftovers, removeLeftovers } from "./leftovers.js";
import { resumeBottle, startBottle, startPooledBottle } from "./start-bottle.js";
import type { StartTimings } from "./start-timings.js";
import { discardBottle, stopBottle } from "./stop-bottle.js";
import { BottleError } from "../../core/errors.js";
import type { HostEnv } from "../../core/host/paths.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import type { BottleMetadata, BottlePaths } from "../../core/state/bottle-state.js";
import { bottlePaths, readPlan } from "../../core/state/bottle-state.js";

export type { BottleSummary, Health } from "./bottle-list.js";
export type { Leftovers } from "./leftovers.js";

export class DockerBackend {
  private readonly ctx: BackendContext;

  constructor(docker: EngineClient, host: HostEnv, root: string) {
    this.ctx = { docker, host, root };
  }

  /** The home label this backend puts on every engine object it makes. */
  homeTag(): string {
    return homeTagOf(this.ctx.host);
  }

  paths(identity: string): BottlePaths {
    return bottlePaths(this.ctx.host, identity);
  }

  /** Reads a bottle's state, or explains that no such bottle exists. */
  metadata(identity: string): BottleMetadata {
    return knownMetadata(this.ctx.host, identity);
  }

  /** Creates the state, launches the bottle, and records it as running. */
  start(
    plan: BottlePlan,
    options: { detached: boolean; progress: Progress; timings?: StartTimings },
  ): Promise<void> {
    return startBottle(this.ctx, plan, options);
  }

  /** Starts a warm pool's bottle, without secrets (see start-bottle.ts). */
  startPooled(plan: BottlePlan, progress: Progress): Promise<void> {
    return startPooledBottle(this.ctx, plan, progress);
  }

  /** Removes a never-used pooled bottle whole, engine objects and state folder. */
  discard(identity: string): Promise<void> {
    return discardBottle(this.ctx, identity);
  }

  /** Starts a stopped bottle again: same identity, plan, policy and workspace. */
  resume(identity: string, progress: Progress): Promise<BottleMetadata> {
    return resumeBottle(this.ctx, identity, progress);
  }

  /**
   * Builds the image of a running bottle's recipe while the bottle runs on (see
   * bottle-image.ts); false when no change waits for a rebuild.
   */
  async buildPendingImage(identity: string, progress: Progress): Promise<boolean> {
    const paths = this.paths(identity);
    const plan = readPlan(paths);
    if (plan === undefined) return false;
    return buildPendingImage(this.ctx.docker, this.ctx.root, plan, paths.dir, progress);
  }

  private async agentContainer(identity: string): Promise<string> {
    this.metadata(identity);
    const objects = (await findBottleObjects(this.ctx.docker, identity)).get(identity);
    const agent = objects?.containers.find((c) => c.role === "agent");
    if (agent?.state !== "running") {
      throw new BottleError("bottle_not_running", `Bottle ${identity} is not running.`, {
        hint: `Start it again with \`bottle resume ${identity}\`.`,
      });
    }
    return agent.id;
  }

  /** Waits while the bottle restarts on a new image; true once it runs again. */
  waitWhileRestarting(identity: string): Promise<boolean> {
    return waitWhileRestarting(this.paths(identity));
  }

  async exec(identity: string, command: readonly string[], output: ExecOutput): Promise<number> {
    return execInContainer(this.ctx.docker, await this.agentContainer(identity), command, output);
  }

  async attach(identity: string, command: readonly string[]): Promise<number> {
    return execInteractive(await this.agentContainer(identity), command, this.ctx.host.env);
  }

  /**
   * Saves the workspace, removes every engine object of the bottle, keeps its state for resume.
   * `restarting`: the bottle comes back at once (an image change); an attached session waits for it.
   */
  stop(identity: string, options: { restarting?: boolean } = {}): Promise<void> {
    return stopBottle(this.ctx, identity, options);
  }

  list(): Promise<BottleSummary[]> {
    return listBottles(this.ctx);
  }

  /** Whether approved image changes wait for a rebuild (restart or resume). */
  rebuildPending(identity: string): boolean {
    return isRebuildPending(this.ctx.host, identity);
  }

  /** What cleanup would remove (see leftovers.ts). */
  findLeftovers(options: { allHomes: boolean } = { allHomes: false }): Promise<Leftovers> {
    return findLeftovers(this.ctx, options);
  }

  removeLeftovers(leftovers: Leftovers): Promise<void> {
    return removeLeftovers(this.ctx, leftovers);
  }
}
