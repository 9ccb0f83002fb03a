/**
 * Starts a bottle's detached secret keeper (keeper-main.ts; see secret-keeper.ts for what it
 * does) and hands it the secrets over its stdin, never argv, env or a file. Loads nothing but
 * node's own modules: the pooled start's path uses it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { SidecarSecrets } from "../../core/contract/contract.js";

export const KEEPER_READY_LINE = "bot-bottle keeper ready";

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

export interface KeeperTarget {
  controlSocket: string;
  metadataFile: string;
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
  return spawnKeeper(target, secrets, logFile, pidFile, true);
}

/**
 * The same, without waiting for the keeper to say it holds them (a pooled start: the sidecar
 * already holds them; the keeper is only needed if it restarts): resolves once the secrets are in
 * the pipe to it. A keeper that fails at start says so in `logFile`.
 */
export async function spawnKeeperNoWait(
  target: KeeperTarget,
  secrets: SidecarSecrets,
  logFile: string,
  pidFile: string,
): Promise<void> {
  return spawnKeeper(target, secrets, logFile, pidFile, false);
}

async function spawnKeeper(
  target: KeeperTarget,
  secrets: SidecarSecrets,
  logFile: string,
  pidFile: string,
  wait: boolean,
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
    if (!wait) {
      await new Promise<void>((resolve, reject) => {
        child.once("error", reject);
        stdin.end(JSON.stringify(secrets), () => {
          resolve();
        });
      });
      stdout.destroy();
      child.unref();
      if (child.pid !== undefined) fs.writeFileSync(pidFile, `${String(child.pid)}\n`);
      return;
    }
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
