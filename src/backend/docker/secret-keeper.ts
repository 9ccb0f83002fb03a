/**
 * Keeps a running bottle's sidecar supplied with its secrets. A sidecar restarted outside the CLI
 * (`docker restart`, a daemon restart) comes back without them and refuses everything; the keeper
 * polls its health over the control socket and hands the secrets over again as soon as it says
 * "waiting for secrets". It stops when the bottle's metadata no longer says starting or running,
 * or says starting while the process that was starting it is gone. The detached keeper is spawned
 * beside the launch (while the bottle is starting), so a start does not wait for it at the end.
 *
 * Run in-process by an attached `bottle start`/`resume`, and as a small detached host process
 * (keeper-main.ts) for --detach; the secrets reach that process over a pipe only.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { HealthState, SidecarSecrets } from "../../core/contract/contract.js";
import { healthStateOf } from "../../core/contract/keeper-checks.js";
import { controlRequest } from "./control-request.js";

export const KEEPER_POLL_MS = 500;

/**
 * V8 flags of the detached keeper: it lives as long as its bottle, one per bottle, and only polls;
 * a small young generation, no optimizing compiler and no helper threads keep it small. Its heap
 * holds a few small objects: 32 MiB is far more than it ever uses.
 */
export const KEEPER_NODE_FLAGS = [
  "--max-semi-space-size=1",
  "--max-old-space-size=32",
  "--lite-mode",
  "--single-threaded",
];
export const KEEPER_READY_LINE = "bot-bottle keeper ready";

export interface KeeperTarget {
  controlSocket: string;
  metadataFile: string;
}

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
    if (parsed.status === "starting" && typeof parsed.starter_pid === "number") {
      try {
        process.kill(parsed.starter_pid, 0);
      } catch {
        return "abandoned";
      }
    }
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

/**
 * Starts the detached keeper process of a bottle and hands it the secrets over its stdin; resolves
 * once it says it holds them. Its log (no secrets) goes to `logFile`, its pid to `pidFile`.
 */
export async function spawnDetachedKeeper(
  target: KeeperTarget,
  secrets: SidecarSecrets,
  logFile: string,
  pidFile: string,
): Promise<void> {
  const script = fileURLToPath(new URL("./keeper-main.js", import.meta.url));
  const log = fs.openSync(logFile, "a", 0o600);
  try {
    const args = [...KEEPER_NODE_FLAGS, script, target.controlSocket, target.metadataFile];
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ["pipe", "pipe", log],
    });
    const { stdin, stdout } = child;
    if (stdin === null || stdout === null) throw new Error("the secret keeper has no pipes");
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error("the secret keeper did not start within 10 s"));
      }, 10_000);
      child.on("error", reject);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(
          new Error(`the secret keeper exited at start (code ${String(code)}); see ${logFile}`),
        );
      });
      stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        if (out.includes(KEEPER_READY_LINE)) {
          clearTimeout(timer);
          child.removeAllListeners("exit");
          stdout.destroy();
          child.unref();
          if (child.pid !== undefined) fs.writeFileSync(pidFile, `${String(child.pid)}\n`);
          resolve();
        }
      });
      stdin.end(JSON.stringify(secrets));
    });
  } finally {
    fs.closeSync(log);
  }
}
