/**
 * Gets a bottle kept by its state home's secret keeper (home-keeper.ts): hands the bottle to the
 * running keeper over its socket, or, when none answers, starts keeper-main.ts with the bottle's
 * registration on its stdin (never argv, env or a file), which becomes the keeper or hands it on
 * to the one a concurrent start made. Loads nothing but node's own modules: the pooled start's
 * path uses it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { SidecarSecrets } from "../../core/contract/contract.js";
import type { KeeperRegistration } from "./keeper-protocol.js";
import { keeperLogPath, keeperSocketPath } from "./keeper-protocol.js";
import { registerWithKeeper } from "./keeper-register.js";

export const KEEPER_READY_LINE = "bot-bottle keeper ready";

/**
 * V8 flags of the keeper's process: it lives as long as its home's bottles and only polls; a
 * small young generation, no optimizing compiler and no helper threads keep it small. Its heap
 * holds a few small objects per bottle: 32 MiB is far more than it ever uses.
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

/** A bottle's keeper files in its state folder. */
export interface KeeperFiles extends KeeperTarget {
  identity: string;
  logFile: string;
  pidFile: string;
}

/**
 * How the bottle got its keeper: `found` a running one, or `started` one (or handed it to the one
 * a concurrent start made); the keeper's pid when known (not when the start did not wait).
 */
export interface KeptBy {
  keeper: "found" | "started";
  pid: number | undefined;
}

/**
 * Gets the bottle kept by its home's keeper; resolves once the keeper holds its secrets, or, with
 * `wait: false` (a pooled start: the sidecar already holds them; the keeper is only needed if it
 * restarts), once they are in the pipe to a starting keeper. A keeper that fails at start says so
 * in the home's keeper.log.
 */
export async function keepBottle(
  home: string,
  files: KeeperFiles,
  secrets: SidecarSecrets,
  wait = true,
): Promise<KeptBy> {
  const registration: KeeperRegistration = { ...files, secrets };
  const socketPath = keeperSocketPath(home);
  try {
    return { keeper: "found", pid: await registerWithKeeper(socketPath, registration) };
  } catch {
    // None answers (none runs, or it is closing): start one.
  }
  const pid = await spawnKeeper(socketPath, registration, keeperLogPath(home), wait);
  return { keeper: "started", pid };
}

async function spawnKeeper(
  socketPath: string,
  registration: KeeperRegistration,
  logFile: string,
  wait: boolean,
): Promise<number | undefined> {
  const script = fileURLToPath(new URL("./keeper-main.js", import.meta.url));
  const log = fs.openSync(logFile, "a", 0o600);
  try {
    const child = spawn(process.execPath, [...KEEPER_NODE_FLAGS, script, socketPath], {
      detached: true,
      stdio: ["pipe", "pipe", log],
    });
    const { stdin, stdout } = child;
    if (stdin === null || stdout === null) throw new Error("the secret keeper has no pipes");
    const line = `${JSON.stringify(registration)}\n`;
    if (!wait) {
      await new Promise<void>((resolve, reject) => {
        child.once("error", reject);
        stdin.end(line, () => {
          resolve();
        });
      });
      stdout.destroy();
      child.unref();
      return undefined;
    }
    return await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error("the secret keeper did not start within 15 s"));
      }, 15_000);
      child.on("error", reject);
      // `close`, not `exit`: a process that handed the bottle on exits at once, and its ready
      // line must be read first.
      child.on("close", (code) => {
        clearTimeout(timer);
        reject(
          new Error(`the secret keeper exited at start (code ${String(code)}); see ${logFile}`),
        );
      });
      stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        const ready = new RegExp(`${KEEPER_READY_LINE} (\\d+)\\n`).exec(out);
        if (ready !== null) {
          clearTimeout(timer);
          child.removeAllListeners("close");
          stdout.destroy();
          child.unref();
          resolve(Number(ready[1]));
        }
      });
      stdin.end(line);
    });
  } finally {
    fs.closeSync(log);
  }
}
