/**
 * Runs the git binary for the gate: arguments as an array (never a shell string), an explicit
 * environment, output collected. Failures come back as a result, not a throw, so callers decide
 * what the agent is told.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

export type GitEnv = Readonly<Record<string, string>>;

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitRun {
  env: GitEnv;
  /** Bytes or a stream for git's stdin; nothing by default. */
  input?: Buffer | Readable;
}

/** The environment every git the gate runs starts from: no prompts, no user or system config. */
export function baseGitEnv(extra: GitEnv = {}): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: process.env["HOME"] ?? "/tmp",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LC_ALL: "C",
    ...extra,
  };
}

export function runGit(args: readonly string[], run: GitRun): Promise<GitResult> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { env: run.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.stdin.on("error", () => undefined);
    child.on("error", (error) => {
      resolve({ code: 127, stdout: Buffer.alloc(0), stderr: error.message });
    });
    child.on("close", (code) => {
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (run.input === undefined) child.stdin.end();
    else if (Buffer.isBuffer(run.input)) child.stdin.end(run.input);
    else run.input.pipe(child.stdin);
  });
}

/** Runs git and returns its stdout as text; throws with git's stderr when it fails. */
export async function gitText(args: readonly string[], run: GitRun): Promise<string> {
  const result = await runGit(args, run);
  if (result.code !== 0) {
    throw new Error(
      `git ${args[0] ?? ""} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
  return result.stdout.toString("utf8");
}

/** The part of git's stderr worth showing: its fatal/error lines, else its last line. */
export function gitComplaint(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const serious = lines.filter((line) => /^(fatal|error|ERROR):|verification failed/i.test(line));
  return (serious.length > 0 ? serious : lines.slice(-1)).join("; ") || "no output";
}
