/**
 * What a quarantined push holds, read with git: whether each update fast-forwards, whether the
 * objects it names are all there, and what its new objects say (scanned for secrets). New
 * objects are those reachable from the pushed tips and from no ref the mirror has: the content
 * the push adds upstream. Findings name a kind and where (a path or a commit), never the value.
 */
import { spawn } from "node:child_process";
import type { ContentFinding } from "../egress/content-inspector.js";
import type { GitEnv } from "./git-process.js";
import { runGit } from "./git-process.js";
import { gitComplaint } from "./git-mirror.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { RefUpdateCommand } from "./receive-pack.js";

/** Scans one text; the DLP inspector's scanText. */
export type ContentScanner = (text: string, where: string) => ContentFinding[];

export async function withFastForward(
  env: GitEnv,
  commands: readonly RefUpdateCommand[],
): Promise<RefUpdate[]> {
  return Promise.all(
    commands.map(async (command) => {
      if (command.old === ZERO_ID || command.new === ZERO_ID)
        return { ...command, fastForward: true };
      const result = await runGit(["merge-base", "--is-ancestor", command.old, command.new], {
        env,
      });
      return { ...command, fastForward: result.code === 0 };
    }),
  );
}

export interface NewObjects {
  /** oid and, for blobs and trees, the path it was first seen at. */
  objects: { oid: string; path: string }[];
  /** Why the push is incomplete (an object it needs is missing), or null. */
  error: string | null;
}

export async function newObjects(env: GitEnv, tips: readonly string[]): Promise<NewObjects> {
  if (tips.length === 0) return { objects: [], error: null };
  const result = await runGit(["rev-list", "--objects", ...tips, "--not", "--all"], { env });
  if (result.code !== 0) {
    return { objects: [], error: `missing objects: ${gitComplaint(result.stderr)}` };
  }
  const objects = result.stdout
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => ({ oid: line.slice(0, 40), path: line.slice(41) }));
  return { objects, error: null };
}

/**
 * Reads each object through `git cat-file --batch` and scans it; stops at the first finding.
 * A commit or tag is scanned as its message and headers; a blob as its content, then its path.
 */
export async function scanObjects(
  env: GitEnv,
  objects: readonly { oid: string; path: string }[],
  scan: ContentScanner,
): Promise<ContentFinding | null> {
  if (objects.length === 0) return null;
  const paths = new Map(objects.map((o) => [o.oid, o.path]));
  const child = spawn("git", ["cat-file", "--batch"], { env, stdio: ["pipe", "pipe", "ignore"] });
  child.stdin.on("error", () => undefined);
  child.stdin.end(`${objects.map((o) => o.oid).join("\n")}\n`);
  let pending: Buffer = Buffer.alloc(0);
  let found: ContentFinding | null = null;
  const take = (chunk: Buffer): void => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const newline = pending.indexOf(10);
      if (newline === -1) return;
      const [oid = "", type = "", size = "0"] = pending.toString("latin1", 0, newline).split(" ");
      const length = Number(size);
      if (type === "missing") {
        pending = pending.subarray(newline + 1);
        continue;
      }
      if (pending.length < newline + 1 + length + 1) return;
      const content = pending.toString("latin1", newline + 1, newline + 1 + length);
      pending = pending.subarray(newline + 1 + length + 1);
      const where =
        type === "blob" || type === "tree" ? `path ${paths.get(oid) ?? oid}` : `${type} ${oid}`;
      const findings = [
        ...scan(content, where),
        ...(type === "blob" ? scan(paths.get(oid) ?? "", where) : []),
      ];
      if (findings[0] !== undefined) {
        found = findings[0];
        child.stdout.off("data", take);
        child.kill();
        return;
      }
    }
  };
  child.stdout.on("data", take);
  await new Promise<void>((resolve) => {
    child.on("close", () => {
      resolve();
    });
    child.on("error", () => {
      resolve();
    });
  });
  return found;
}
