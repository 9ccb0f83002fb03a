/**
 * The agent's relay (images/agent-common/relay.c) built on the host with the agent images' own
 * compile line and run as a process, the way the image's entry point runs it. Needs gcc and a
 * static libc (scripts/setup-host.sh installs them).
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { packageRoot } from "../../src/core/host/package-root.js";

export const RELAY_SOURCE = path.join(packageRoot(), "images", "agent-common", "relay.c");

/** The compile line of the agent images' `relay` stage (images/agent-shell/Dockerfile). */
export function compileLine(): string[] {
  const dockerfile = fs.readFileSync(
    path.join(packageRoot(), "images", "agent-shell", "Dockerfile"),
    "utf8",
  );
  const line = /^RUN (gcc .*) \/src\/relay\.c$/m.exec(dockerfile)?.[1];
  if (line === undefined) throw new Error("no `RUN gcc ... /src/relay.c` line in the Dockerfile");
  return line.split(" ");
}

/** Builds the relay once into a fresh folder; returns the binary's path. */
export function buildRelay(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-relay-bin-"));
  const binary = path.join(dir, "relay");
  const [cc, ...flags] = compileLine();
  const out = flags.indexOf("-o");
  flags.splice(out, 2, "-o", binary);
  execFileSync(cc ?? "gcc", [...flags, RELAY_SOURCE], { stdio: ["ignore", "inherit", "inherit"] });
  return binary;
}

export type RelayChild = ChildProcessByStdio<null, Readable, Readable>;

export interface RelayRun {
  child: RelayChild;
  ports: number[];
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address !== "object") throw new Error("no port");
  return address.port;
}

/** Runs the binary with the given arguments, collecting its output. */
export function runRelay(binary: string, args: string[]): Omit<RelayRun, "ports"> {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      resolve(code);
    }),
  );
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  return { child, stdout: () => stdout, stderr: () => stderr, exited, stop };
}

/** Starts the relay for the sockets on free ports; resolves once it printed its ready line. */
export async function startRelayProcess(binary: string, sockets: string[]): Promise<RelayRun> {
  const ports: number[] = [];
  for (let i = 0; i < sockets.length; i++) ports.push(await freePort());
  const run = runRelay(
    binary,
    sockets.map((socket, i) => `${ports[i]}=${socket}`),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error("the relay printed no ready line"));
    }, 5_000);
    run.child.stdout.on("data", () => {
      if (run.stdout().includes("\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void run.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code}) before it was ready: ${run.stderr()}`));
    });
  });
  return { ...run, ports };
}
