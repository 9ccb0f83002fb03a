/** Runs the CLI in-process (fast) or as a real process (exit codes, no shared state). */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../src/cli/program.js";
import { packageRoot } from "../../src/core/host/package-root.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  cwd: string;
  home: string;
  env: Record<string, string>;
}

/** A throwaway cwd and home, so nothing a test does reaches the real ones. */
export function makeSandbox(): Sandbox {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bottle-test-"));
  const cwd = path.join(root, "work");
  const home = path.join(root, "home");
  fs.mkdirSync(cwd);
  fs.mkdirSync(home);
  return {
    cwd,
    home,
    env: {
      HOME: home,
      BOT_BOTTLE_HOME: path.join(home, ".bot-bottle"),
      PATH: process.env["PATH"] ?? "",
    },
  };
}

export async function cli(
  args: readonly string[],
  box: Sandbox,
  env: Record<string, string> = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    host: { env: { ...box.env, ...env }, home: box.home, cwd: box.cwd },
    io: { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) },
    confirm: undefined,
  });
  return { code, stdout, stderr };
}

/** Runs bin/bottle.js as a child process (asynchronously, so servers in the test keep serving). */
export function cliProcess(
  args: readonly string[],
  box: Sandbox,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(packageRoot(), "bin", "bottle.js"), ...args], {
      cwd: box.cwd,
      env: { ...box.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export function writeManifest(box: Sandbox, text: string, name = "bottle.yaml"): string {
  const file = path.join(box.cwd, name);
  fs.writeFileSync(file, text);
  return file;
}
