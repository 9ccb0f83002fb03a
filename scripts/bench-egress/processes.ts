/** Child processes of `bench:egress`: servers that print `listening PORT`, and client runs. */
import type { ChildProcess } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Job, Sample } from "./client.js";

const run = promisify(execFile);
export const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface Server {
  port: number;
  child: ChildProcess;
  stop(): void;
}

/** Starts `node <script> ...args` and waits for its `listening PORT` line. */
export function startServer(script: string, args: string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not start: ${err}`));
    }, 30_000);
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString("utf8");
    });
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({
        port: Number(port),
        child,
        stop: () => {
          child.kill("SIGKILL");
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}): ${err}`));
    });
  });
}

/** One run of the client in its own process on the host. */
export async function runClient(job: Job): Promise<Sample> {
  const { stdout } = await run(
    process.execPath,
    [path.join(HERE, "client.js"), JSON.stringify(job)],
    {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    },
  );
  return JSON.parse(stdout) as Sample;
}
