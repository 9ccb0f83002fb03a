/** Helpers for integration tests against the real Docker engine. */
import { spawn } from "node:child_process";
import path from "node:path";
import Docker from "dockerode";
import { packageRoot } from "../../src/core/host/package-root.js";
import type { CliResult, Sandbox } from "./cli.js";
import { cliProcess, makeSandbox, writeManifest } from "./cli.js";

export const BASE_IMAGE = process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm";
export const docker = new Docker();

/** A sandbox whose CLI processes build on the local base image. */
export function dockerSandbox(manifest: string): Sandbox {
  const box = makeSandbox();
  box.env["BOT_BOTTLE_BASE_IMAGE"] = BASE_IMAGE;
  if (process.env["DOCKER_HOST"] !== undefined) box.env["DOCKER_HOST"] = process.env["DOCKER_HOST"];
  writeManifest(box, manifest);
  return box;
}

export function shellManifest(
  options: { runtime?: string; allow?: string[]; pids?: number } = {},
): string {
  // Test upstreams live on the bottle's network, at private addresses: the rules say internal.
  const allow = (options.allow ?? ["allowed.test", "*.allowed.test"])
    .map((h) => `{host: ${JSON.stringify(h)}, internal: true}`)
    .join(", ");
  return `agents:\n  sh:\n    bottle: box\n    provider: shell\nbottles:\n  box:\n    runtime: ${options.runtime ?? "auto"}\n    resources: {memory: 512m, cpus: 1, pids: ${options.pids ?? 256}}\n    egress:\n      allow: [${allow}]\n      deny: [blocked.allowed.test]\n`;
}

/** `bottle start <agent> --yes --detach`; returns the new identity. */
export async function startDetached(box: Sandbox, agent = "sh"): Promise<string> {
  // The first start of a run may build the images: minutes, not seconds.
  const result = await cliProcess(["start", agent, "--yes", "--detach"], box, {}, 600_000);
  if (result.code !== 0) throw new Error(`start failed (${result.code}):\n${result.stderr}`);
  return result.stdout.trim();
}

export function bottleExec(box: Sandbox, identity: string, command: string): Promise<CliResult> {
  return cliProcess(["exec", identity, "--", "bash", "-c", command], box);
}

export interface LabelledObjects {
  containers: number;
  networks: number;
  volumes: number;
}

export async function objectsOf(identity: string): Promise<LabelledObjects> {
  const filters = { label: [`bot-bottle.identity=${identity}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return {
    containers: containers.length,
    networks: networks.length,
    volumes: volumes.Volumes.length,
  };
}

/**
 * A local HTTP upstream in a container on the bottle's network, answering as every alias given.
 * It is one of the test's own hosts; nothing leaves the machine.
 */
export async function startUpstream(
  network: string,
  aliases: string[],
): Promise<{ id: string; ip: string; remove(): Promise<void> }> {
  const server = `require("http").createServer((q, s) => { s.setHeader("content-type", "text/plain"); s.end("upstream saw " + q.method + " " + q.headers.host + q.url + "\\n"); }).listen(80, () => console.log("upstream ready"));`;
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["node", "-e", server],
    Labels: { "bot-bottle.test": "upstream" },
    HostConfig: { NetworkMode: network, AutoRemove: false },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: aliases } } },
  });
  await container.start();
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[network]?.IPAddress ?? "";
  return {
    id: container.id,
    ip,
    remove: async () => {
      await container.remove({ force: true });
    },
  };
}

/** Output taken out of the Engine's multiplexed frames (8-byte headers). */
export function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** Runs `command` with sh as root in a container (for probes the agent user cannot make). */
export function execAsRoot(container: string, command: string, timeoutMs = 120_000) {
  return execAs(container, "0", command, timeoutMs);
}

/**
 * Runs `command` with sh as `user` in a container. Root there has no capabilities, so it cannot
 * read the agent's private folders (0700, such as ~/.codex): probes of those run as the agent.
 */
export async function execAs(
  container: string,
  user: string,
  command: string,
  timeoutMs = 120_000,
): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ["sh", "-c", command],
    User: user,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ Detach: false, Tty: false });
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  // A container that dies under the command may close the stream without ending it, or leave
  // it open: hence the time limit.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${container}: no end of output in ${timeoutMs} ms from: ${command}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once("end", done);
    stream.once("close", done);
    stream.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  const state = await docker.getContainer(container).inspect();
  if (!state.State.Running) {
    throw new Error(
      `${container} stopped (exit ${state.State.ExitCode}) while running: ${command}`,
    );
  }
  return demux(Buffer.concat(chunks));
}

/** Spawns the CLI without waiting, for tests that interrupt it. */
export function spawnCli(args: readonly string[], box: Sandbox) {
  return spawn(process.execPath, [path.join(packageRoot(), "bin", "bottle.js"), ...args], {
    cwd: box.cwd,
    env: box.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
