/**
 * Where a push's objects wait while the gate judges them: a folder of their own beside the
 * mirror, seen by git through GIT_OBJECT_DIRECTORY with the mirror's objects as alternates (the
 * same mechanism git's receive-pack uses). Nothing the agent sent is in the mirror until the
 * upstream has accepted it; a refused push is deleted whole.
 *
 * The pack is written by `git index-pack --stdin --fix-thin` as it arrives. More than `maxBytes`
 * stops the writing (the rest of the request is read and dropped, so the agent still gets its
 * answer).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import type { GitEnv } from "./git-process.js";
import { gitComplaint } from "./git-process.js";

export interface Quarantine {
  dir: string;
  /** git's environment to see the mirror's objects and the quarantined ones. */
  env: GitEnv;
  /** Pack bytes the agent sent (counted up to the limit and past it). */
  bytes: number;
  tooBig: boolean;
  /** Why the pack could not be read, or null. */
  unpackError: string | null;
}

function quarantineRoot(mirrorDir: string): string {
  return path.join(mirrorDir, "bot-bottle-quarantine");
}

/** Removes what a sidecar that stopped mid-push left: nothing in it was ever accepted. */
export function dropLeftoverQuarantines(mirrorDir: string): void {
  fs.rmSync(quarantineRoot(mirrorDir), { recursive: true, force: true });
}

function quarantineEnv(mirrorDir: string, dir: string, env: GitEnv): GitEnv {
  return {
    ...env,
    GIT_DIR: mirrorDir,
    GIT_OBJECT_DIRECTORY: dir,
    GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(mirrorDir, "objects"),
  };
}

/**
 * Makes a quarantine and reads the pack into it: `head` (its bytes already read), then `rest`.
 * A push of deletions only has no pack (null).
 */
export async function receiveIntoQuarantine(
  mirrorDir: string,
  env: GitEnv,
  pack: { head: Buffer; rest: Readable } | null,
  maxBytes: number,
): Promise<Quarantine> {
  const dir = path.join(quarantineRoot(mirrorDir), crypto.randomBytes(6).toString("hex"));
  fs.mkdirSync(path.join(dir, "pack"), { recursive: true });
  const qenv = quarantineEnv(mirrorDir, dir, env);
  if (pack === null) return { dir, env: qenv, bytes: 0, tooBig: false, unpackError: null };
  const { head, rest } = pack;
  const child = spawn("git", ["index-pack", "--stdin", "--fix-thin"], {
    env: qenv,
    stdio: ["pipe", "ignore", "pipe"],
  });
  const stderr: Buffer[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on("error", () => undefined);
  let writing = true;
  const exited = new Promise<number>((resolve) => {
    child.on("error", () => {
      resolve(127);
    });
    child.on("close", (code) => {
      // From here on the rest of the request is read and dropped.
      writing = false;
      rest.resume();
      resolve(code ?? 1);
    });
  });

  const received: Quarantine = { dir, env: qenv, bytes: 0, tooBig: false, unpackError: null };
  const take = (chunk: Buffer): void => {
    received.bytes += chunk.length;
    if (received.tooBig || !writing) return;
    if (received.bytes > maxBytes) {
      received.tooBig = true;
      writing = false;
      child.kill("SIGKILL");
      return;
    }
    if (!child.stdin.write(chunk)) rest.pause();
  };
  child.stdin.on("drain", () => rest.resume());
  take(head);
  try {
    await new Promise<void>((resolve, reject) => {
      rest.on("data", take);
      rest.once("end", resolve);
      // A client gone mid-push: index-pack sees the pack end early and fails.
      rest.once("close", resolve);
      rest.once("error", reject);
      rest.resume();
    });
  } catch (error) {
    child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  child.stdin.end();
  const code = await exited;
  if (!received.tooBig && code !== 0) {
    received.unpackError = `index-pack failed: ${gitComplaint(Buffer.concat(stderr).toString("utf8"))}`;
  }
  return received;
}

/** Moves an accepted push's packs into the mirror. */
export function admitQuarantine(mirrorDir: string, quarantine: Quarantine): void {
  const from = path.join(quarantine.dir, "pack");
  const to = path.join(mirrorDir, "objects", "pack");
  fs.mkdirSync(to, { recursive: true });
  // The index goes last: git only looks at packs that have one.
  const files = fs
    .readdirSync(from)
    .sort((a, b) => Number(a.endsWith(".idx")) - Number(b.endsWith(".idx")));
  for (const file of files) fs.renameSync(path.join(from, file), path.join(to, file));
  dropQuarantine(quarantine);
}

export function dropQuarantine(quarantine: Quarantine): void {
  fs.rmSync(quarantine.dir, { recursive: true, force: true });
}
