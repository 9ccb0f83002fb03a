/**
 * Running commands in a bottle's agent container.
 *
 * - Non-interactive (`bottle exec`): through the Engine API, output streamed, exit code returned.
 * - Interactive (start, attach): handed to `docker exec -it`, which already does raw mode, window
 *   resize and signal handling right; reimplementing a TTY client over the API brings no benefit.
 */
import { spawn } from "node:child_process";
import type { EngineClient } from "./engine-client.js";
import { demuxStream } from "./engine-http.js";
import { WORKSPACE_DIR } from "../../core/plan/layout.js";
import { AGENT_UID } from "./workspace.js";

export interface ExecOutput {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function execInContainer(
  docker: EngineClient,
  containerId: string,
  command: readonly string[],
  output: ExecOutput,
): Promise<number> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: [...command],
    AttachStdout: true,
    AttachStderr: true,
    User: `${AGENT_UID}:${AGENT_UID}`,
    WorkingDir: WORKSPACE_DIR,
  });
  const stream = await exec.start();
  await new Promise<void>((resolve, reject) => {
    demuxStream(stream, output.stdout, output.stderr);
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const info = await exec.inspect();
  return info.ExitCode ?? 1;
}

/** Runs a command in the container attached to this terminal; resolves with its exit code. */
export function execInteractive(
  containerId: string,
  command: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const tty = process.stdin.isTTY ? ["-t"] : [];
  const args = [
    "exec",
    "-i",
    ...tty,
    "-u",
    `${AGENT_UID}:${AGENT_UID}`,
    "-w",
    WORKSPACE_DIR,
    containerId,
    ...command,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: "inherit", env: { ...env } });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}
