/**
 * Keeps one bottle's sidecar supplied with its secrets. A sidecar restarted outside the CLI
 * (`docker restart`, a daemon restart) comes back without them and refuses everything; the keeper
 * polls its health over the control socket and hands the secrets over again as soon as it says
 * "waiting for secrets". It stops when the bottle's metadata no longer says starting or running,
 * or says starting while the process that was starting it is gone.
 *
 * One runs per bottle inside its state home's keeper process (home-keeper.ts), which is handed the
 * bottle beside the launch (while the bottle is starting), so a start does not wait for it at the
 * end; the secrets reach that process over its 0600 socket or a pipe only.
 */
import fs from "node:fs";
import type { HealthState, SidecarSecrets } from "../../core/contract/contract.js";
import { healthStateOf } from "../../core/contract/keeper-checks.js";
import { processAlive } from "../../core/host/process-alive.js";
import { controlRequest } from "./control-request.js";
import type { KeeperTarget } from "./keeper-spawn.js";

export const KEEPER_POLL_MS = 500;
export { KEEPER_NODE_FLAGS, KEEPER_READY_LINE } from "./keeper-spawn.js";

export type { KeeperTarget } from "./keeper-spawn.js";

/**
 * Status from metadata.json; undefined when it cannot be read (the bottle is gone). A start whose
 * process is gone (killed half-way) reads as `abandoned`: the keeper of that start ends.
 */
function bottleStatus(metadataFile: string): string | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(metadataFile, "utf8")) as {
      status?: unknown;
      starter_pid?: unknown;
    };
    if (
      parsed.status === "starting" &&
      typeof parsed.starter_pid === "number" &&
      !processAlive(parsed.starter_pid)
    )
      return "abandoned";
    return typeof parsed.status === "string" ? parsed.status : undefined;
  } catch {
    return undefined;
  }
}

/** The sidecar's health state, or undefined when it does not answer or answers nonsense. */
export async function sidecarState(controlSocket: string): Promise<HealthState | undefined> {
  try {
    return healthStateOf(await controlRequest(controlSocket, "GET", "/health", undefined, 1000));
  } catch {
    return undefined;
  }
}

export class SecretKeeper {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly target: KeeperTarget,
    private readonly secrets: SidecarSecrets,
    private readonly log: (line: string) => void = () => undefined,
    private readonly onExit: () => void = () => undefined,
  ) {}

  start(unref: boolean): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      const status = bottleStatus(this.target.metadataFile);
      if (status !== "running" && status !== "starting") {
        this.stop();
        return;
      }
      if ((await sidecarState(this.target.controlSocket)) === "degraded: waiting for secrets") {
        try {
          await controlRequest(this.target.controlSocket, "PUT", "/secrets", this.secrets);
          this.log(`${new Date().toISOString()} handed the secrets over again`);
        } catch (error) {
          // Never the body: only what failed.
          this.log(
            `${new Date().toISOString()} hand-over failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
      // stop() during the await: the next tick sees it and ends.
      this.timer = setTimeout(() => void tick(), KEEPER_POLL_MS);
      if (unref) this.timer.unref();
    };
    this.timer = setTimeout(() => void tick(), KEEPER_POLL_MS);
    if (unref) this.timer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.onExit();
  }
}
