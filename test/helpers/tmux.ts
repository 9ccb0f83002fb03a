/** tmux, for the tests that use the CLI as a person at a terminal does. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../src/core/host/package-root.js";
import type { Sandbox } from "./cli.js";

const run = promisify(execFile);

export async function tmux(...args: string[]): Promise<string> {
  return (await run("tmux", args)).stdout;
}

/** Runs `bottle <args>` in a fresh tmux session of 120x40 with the sandbox's environment. */
export async function bottleInTmux(session: string, box: Sandbox, args: string): Promise<void> {
  const env = Object.entries(box.env).map(([k, v]) => `${k}='${v}'`);
  const bottle = path.join(packageRoot(), "bin", "bottle.js");
  await tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", box.cwd);
  await tmux(
    "send-keys",
    "-t",
    session,
    `env ${env.join(" ")} ${process.execPath} ${bottle} ${args}`,
    "Enter",
  );
}
