/**
 * The Docker backend: a bottle's whole lifecycle on one Docker engine. Keeps the bottle's state
 * folder in step with the engine (status in metadata.json, workspace saved on stop).
 */
import { sidecarUserFor } from "./sidecar-user.js";
import fs from "node:fs";
import type { EngineClient } from "./engine-client.js";
import { BottleError } from "../../core/errors.js";
import { rebuildPending } from "../../core/image/bottle-recipe.js";
import { readRecipe } from "../../core/image/recipe-store.js";
import {
  agentImageFor,
  buildPendingImage,
  markStarted,
  waitWhileRestarting,
} from "./bottle-image.js";
import { readBottleSecrets } from "../../core/host/read-secrets.js";
import type { HostEnv } from "../../core/host/paths.js";
import { botBottleHome } from "../../core/host/paths.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import type { BottleMetadata, BottlePaths } from "../../core/state/bottle-state.js";
import {
  bottlePaths,
  bottlePathsIn,
  createBottleState,
  listStateIdentities,
  metadataFromPlan,
  readMetadata,
  readPlan,
  updateStatus,
  writeJsonAtomic,
  writeMetadata,
} from "../../core/state/bottle-state.js";
import type { Progress } from "./build-image.js";
import type { BottleObjects } from "./engine-objects.js";
import { findBottleObjects, removeBottleObjects, sidecarStateFolder } from "./engine-objects.js";
import type { ExecOutput } from "./exec.js";
import { execInContainer, execInteractive } from "./exec.js";
import type { LaunchInput } from "./launch.js";
import { launchBottle } from "./launch.js";
import type { StartTimings } from "./start-timings.js";
import { sidecarState, spawnDetachedKeeper } from "./secret-keeper.js";
import { probeSidecar, saveLiveRules } from "./control-client.js";
import path from "node:path";
import { saveFolder } from "./workspace.js";
import { AGENT_HOME, LABELS, WORKSPACE_DIR, homeTag } from "../../core/plan/layout.js";
import { SIDECAR_STATE_DIR } from "../../sidecar/sidecar-config.js";

/** `idle`: a warm pool's bottle, up and waiting without its secrets, as it should. */
export type Health = "healthy" | "unhealthy" | "degraded: waiting for secrets" | "idle" | "-";

export interface BottleSummary {
  identity: string;
  agent: string;
  status: string;
  health: Health;
  started_at: string | null;
  runtime: string;
  /** Approved image changes wait for a rebuild (at restart or the next resume). */
  rebuild_pending: boolean;
}

export interface Leftovers {
  /** Engine objects of bottles that are not running. */
  objects: BottleObjects[];
  /** State folders of starts that never finished. */
  staleState: string[];
  /** Bottles of other state homes left alone (cleanup without --all-homes). */
  otherHomes: number;
  /** Bottles that look left over but whose sidecar answers: never removed. */
  alive: string[];
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class DockerBackend {
  constructor(
    private readonly docker: EngineClient,
    private readonly host: HostEnv,
    private readonly root: string,
  ) {}

  /** The home label this backend puts on every engine object it makes. */
  homeTag(): string {
    return homeTag(botBottleHome(this.host));
  }

  paths(identity: string): BottlePaths {
    return bottlePaths(this.host, identity);
  }

  /** Reads a bottle's state, or explains that no such bottle exists. */
  metadata(identity: string): BottleMetadata {
    const found = readMetadata(this.paths(identity));
    if (found === undefined) {
      throw new BottleError("bottle_unknown", `No bottle ${identity}.`, {
        hint: "`bottle list` shows the bottles there are.",
      });
    }
    return found;
  }

  /** Creates the state, launches the bottle, and records it as running. */
  async start(
    plan: BottlePlan,
    options: { detached: boolean; progress: Progress; timings?: StartTimings },
  ): Promise<void> {
    const paths = this.paths(plan.identity);
    createBottleState(paths);
    writeJsonAtomic(paths.plan, plan);
    writeMetadata(paths, {
      ...metadataFromPlan(plan, new Date(), options.detached),
      starter_pid: process.pid,
    });
    await this.launch(plan, paths, options.progress, undefined, options.timings);
    options.timings?.mark("done");
    options.timings?.write(path.join(paths.dir, "start-timings.json"));
  }

  /**
   * Starts a warm pool's bottle (see core/pool/): up to the agent's relay ready, provisioned
   * from the plan, with no secrets: its sidecar refuses everything until a `bottle start` takes it
   * and hands them over. Recorded with status `pooled` once up.
   */
  async startPooled(plan: BottlePlan, progress: Progress): Promise<void> {
    const paths = this.paths(plan.identity);
    createBottleState(paths);
    writeJsonAtomic(paths.plan, plan);
    writeMetadata(paths, {
      ...metadataFromPlan(plan, new Date(), true),
      starter_pid: process.pid,
    });
    await this.launch(plan, paths, progress, undefined, undefined, "pooled");
  }

  /**
   * Removes a bottle whole, engine objects and state folder: a pooled bottle that was never
   * handed out (drained, stale, or no longer matching its manifest) has nothing to keep.
   */
  async discard(identity: string): Promise<void> {
    await removeBottleObjects(this.docker, identity);
    fs.rmSync(this.paths(identity).dir, { recursive: true, force: true });
  }

  /** Starts a stopped bottle again: same identity, plan, policy and workspace. */
  async resume(identity: string, progress: Progress): Promise<BottleMetadata> {
    const metadata = this.metadata(identity);
    const paths = this.paths(identity);
    const plan = readPlan(paths);
    if (plan === undefined)
      throw new BottleError(
        "bottle_unknown",
        `Bottle ${identity} has no saved plan; it cannot be resumed.`,
      );
    const objects = (await findBottleObjects(this.docker, identity)).get(identity);
    if (objects !== undefined && objects.containers.some((c) => c.state === "running")) {
      throw new BottleError("usage", `Bottle ${identity} is running.`, {
        hint: `Attach to it: bottle attach ${identity}`,
      });
    }
    if (objects !== undefined) await removeBottleObjects(this.docker, identity);
    writeMetadata(paths, {
      ...metadata,
      status: "starting",
      stopped_at: null,
      starter_pid: process.pid,
    });
    const saved = (file: string): string | undefined => (fs.existsSync(file) ? file : undefined);
    await this.launch(plan, paths, progress, {
      workspace: saved(paths.workspaceArchive),
      home: saved(paths.homeArchive),
    });
    return metadata;
  }

  private async launch(
    plan: BottlePlan,
    paths: BottlePaths,
    progress: Progress,
    resumeFrom: LaunchInput["resumeFrom"],
    timings?: StartTimings,
    mode: "session" | "pooled" = "session",
  ): Promise<void> {
    try {
      if (mode === "pooled") {
        // No secret is read for a pooled bottle: it gets them when it is taken.
        const { tag } = await agentImageFor(this.docker, this.root, plan, paths.dir, progress);
        await launchBottle(this.docker, this.launchInput(plan, paths, tag, null, progress));
        updateStatus(paths, "pooled");
        return;
      }
      const { secrets, missing, missingGit } = readBottleSecrets(plan, this.host.env);
      for (const name of missing)
        progress(`warning: no token for credential ${name}; its route answers 503`);
      for (const name of missingGit)
        progress(`warning: no token for git entry ${name}; the gate reaches it without one`);
      const { recipe, tag } = await agentImageFor(
        this.docker,
        this.root,
        plan,
        paths.dir,
        progress,
      );
      // The keeper hands the secrets over again whenever the sidecar comes back without them.
      // Its process starts beside the launch (status is `starting`, which it watches; a failed
      // launch marks the bottle failed and the keeper ends at its next look).
      const keeper = spawnDetachedKeeper(
        { controlSocket: paths.controlSocket, metadataFile: paths.metadata },
        secrets,
        path.join(paths.dir, "keeper.log"),
        path.join(paths.dir, "keeper.pid"),
      ).then(
        () => undefined,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      );
      await launchBottle(this.docker, {
        ...this.launchInput(plan, paths, tag, secrets, progress),
        ...(resumeFrom === undefined ? {} : { resumeFrom }),
        ...(timings === undefined ? {} : { timings }),
      });
      markStarted(paths.dir, recipe);
      updateStatus(paths, "running");
      const keeperFailure = await keeper;
      timings?.mark("keeper");
      if (keeperFailure !== undefined) {
        progress(
          `warning: ${keeperFailure}; if the sidecar restarts it stays closed until \`bottle stop\` and \`bottle resume\``,
        );
      }
    } catch (error) {
      updateStatus(paths, "failed");
      throw error;
    }
  }

  private launchInput(
    plan: BottlePlan,
    paths: BottlePaths,
    agentTag: string,
    secrets: LaunchInput["secrets"],
    progress: Progress,
  ): LaunchInput {
    return {
      plan: {
        ...plan,
        images: { ...plan.images, agent: { ...plan.images.agent, tag: agentTag } },
        labels: { ...plan.labels, [LABELS.home]: this.homeTag() },
      },
      paths,
      secrets,
      root: this.root,
      hostEnv: this.host.env,
      sidecarUser: sidecarUserFor({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }),
      progress,
    };
  }

  /**
   * Builds the image of a running bottle's recipe while the bottle runs on (see
   * bottle-image.ts); false when no change waits for a rebuild.
   */
  async buildPendingImage(identity: string, progress: Progress): Promise<boolean> {
    const paths = this.paths(identity);
    const plan = readPlan(paths);
    if (plan === undefined) return false;
    return buildPendingImage(this.docker, this.root, plan, paths.dir, progress);
  }

  private async agentContainer(identity: string): Promise<string> {
    this.metadata(identity);
    const objects = (await findBottleObjects(this.docker, identity)).get(identity);
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
    return execInContainer(this.docker, await this.agentContainer(identity), command, output);
  }

  async attach(identity: string, command: readonly string[]): Promise<number> {
    return execInteractive(await this.agentContainer(identity), command, this.host.env);
  }

  /**
   * Saves the workspace, removes every engine object of the bottle, keeps its state for resume.
   * `restarting`: the bottle comes back at once (an image change); an attached session waits for it.
   */
  async stop(identity: string, options: { restarting?: boolean } = {}): Promise<void> {
    const paths = this.paths(identity);
    this.metadata(identity);
    if (options.restarting === true) updateStatus(paths, "restarting");
    const objects = (await findBottleObjects(this.docker, identity)).get(identity);
    const agent = objects?.containers.find((c) => c.role === "agent");
    if (agent !== undefined) {
      try {
        await saveFolder(this.docker, agent.id, WORKSPACE_DIR, paths.workspaceArchive);
        await saveFolder(this.docker, agent.id, AGENT_HOME, paths.homeArchive);
      } catch {
        // A container that cannot be read any more has nothing to save; removal goes on.
      }
    }
    await saveLiveRules(paths);
    if (objects !== undefined) await removeBottleObjects(this.docker, identity);
    if (options.restarting !== true) updateStatus(paths, "stopped");
  }

  /** The bottles of this home: its state folders and its objects (never another home's). */
  async list(): Promise<BottleSummary[]> {
    const all = await findBottleObjects(this.docker);
    const groups = new Map([...all].filter(([, group]) => this.isOwn(group)));
    const identities = new Set([...listStateIdentities(this.host), ...groups.keys()]);
    const summaries: BottleSummary[] = [];
    for (const identity of [...identities].sort()) {
      const metadata = readMetadata(this.paths(identity));
      const containers = groups.get(identity)?.containers ?? [];
      const running = (role: string): boolean =>
        containers.some((c) => c.role === role && c.state === "running");
      let health: Health = "-";
      if (metadata?.status === "pooled") {
        const state =
          running("agent") && running("sidecar")
            ? await sidecarState(this.paths(identity).controlSocket)
            : undefined;
        health = state === "degraded: waiting for secrets" ? "idle" : "unhealthy";
      } else if (metadata?.status === "running") {
        const state =
          running("agent") && running("sidecar")
            ? await sidecarState(this.paths(identity).controlSocket)
            : undefined;
        health =
          state === "ready"
            ? "healthy"
            : state === "degraded: waiting for secrets"
              ? state
              : "unhealthy";
      }
      summaries.push({
        identity,
        agent: metadata?.agent ?? "?",
        status: metadata?.status ?? "orphaned",
        rebuild_pending: this.rebuildPending(identity),
        health,
        started_at: metadata?.started_at ?? null,
        runtime: metadata?.runtime ?? "?",
      });
    }
    return summaries;
  }

  /** Whether approved image changes wait for a rebuild (restart or resume). */
  rebuildPending(identity: string): boolean {
    try {
      const recipe = readRecipe(this.paths(identity).dir);
      return recipe !== undefined && rebuildPending(recipe);
    } catch {
      return false;
    }
  }

  /** Objects of this home: labelled with it, or unlabelled (older) with a state folder here. */
  private isOwn(group: BottleObjects): boolean {
    if (group.home !== undefined) return group.home === this.homeTag();
    return fs.existsSync(this.paths(group.identity).dir);
  }

  /**
   * Whether a bottle with no state here is alive in its own home: that home's state (the folder
   * the sidecar mounts) says it runs, or its running sidecar answers health. Fails toward keeping.
   */
  private async sidecarAnswers(group: BottleObjects): Promise<boolean> {
    const sidecar = group.containers.find((c) => c.role === "sidecar");
    if (sidecar === undefined) return false;
    const folder = await sidecarStateFolder(this.docker, sidecar.id, SIDECAR_STATE_DIR);
    if (folder === undefined) return false;
    const paths = bottlePathsIn(folder);
    let status: string | undefined;
    try {
      status = readMetadata(paths)?.status;
    } catch {
      return true; // unreadable: not ours to judge
    }
    if (status === "running" || status === "pooled" || status === "restarting") return true;
    return sidecar.state === "running" && (await probeSidecar(paths.controlSocket));
  }

  /**
   * What cleanup would remove: objects of this home's bottles that are not running (of every
   * home with allHomes), and state of unfinished starts. A bottle with no state folder here
   * whose sidecar answers health is never a leftover; one whose own state says its start failed
   * or its starter died is, even if its sidecar (without its secrets) still answers.
   */
  async findLeftovers(options: { allHomes: boolean } = { allHomes: false }): Promise<Leftovers> {
    const groups = await findBottleObjects(this.docker);
    const leftovers: Leftovers = { objects: [], staleState: [], otherHomes: 0, alive: [] };
    const pooledDead = new Set<string>();
    const bothRunning = (group: BottleObjects): boolean =>
      ["agent", "sidecar"].every((role) =>
        group.containers.some((c) => c.role === role && c.state === "running"),
      );
    const isStale = (m: BottleMetadata | undefined): boolean =>
      m === undefined ||
      m.status === "failed" ||
      (m.status === "starting" && !isAlive(m.starter_pid));
    for (const [identity, group] of groups) {
      if (!options.allHomes && !this.isOwn(group)) {
        leftovers.otherHomes++;
        continue;
      }
      const metadata = this.isOwn(group) ? readMetadata(this.paths(identity)) : undefined;
      if (metadata?.status === "running" || (metadata?.status === "starting" && !isStale(metadata)))
        continue;
      // A pooled bottle is kept while both its containers run; a dead one is a leftover.
      if (metadata?.status === "pooled") {
        if (bothRunning(group)) continue;
        pooledDead.add(identity);
      }
      // Without state here, the bottle may be a live one of a home we cannot see: ask it.
      if (metadata === undefined && (await this.sidecarAnswers(group)))
        leftovers.alive.push(identity);
      else leftovers.objects.push(group);
    }
    for (const identity of listStateIdentities(this.host)) {
      if (leftovers.alive.includes(identity)) continue;
      const metadata = readMetadata(this.paths(identity));
      const pooledGone =
        metadata?.status === "pooled" && (pooledDead.has(identity) || !groups.has(identity));
      if (pooledGone || isStale(metadata)) leftovers.staleState.push(identity);
    }
    return leftovers;
  }

  async removeLeftovers(leftovers: Leftovers): Promise<void> {
    for (const group of leftovers.objects) await removeBottleObjects(this.docker, group.identity);
    for (const identity of leftovers.staleState)
      fs.rmSync(this.paths(identity).dir, { recursive: true, force: true });
  }
}
