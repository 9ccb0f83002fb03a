/**
 * The pack the gate sends upstream for an accepted push: made from what the accepted new tips
 * reach and the upstream's refs do not (`git pack-objects --revs` over the quarantine), never the
 * pack the agent sent as it is. A received pack may hold objects no pushed ref reaches (a
 * hand-built pack, or the objects of a ref refused before sending): those never leave. Deltas and
 * compressed data are reused from the quarantine's pack, so this costs little more than reading it.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { spawn } from "node:child_process";
import type { GitEnv } from "./git-process.js";
import { runGit } from "./git-process.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";

/** pack-objects' `--revs` input: the new tips, then the ids the upstream has, negated, PURE. */
export function packRevisions(
  updates: readonly RefUpdate[],
  upstreamHas: readonly string[],
): string {
  const tips = [...new Set(updates.filter((u) => u.new !== ZERO_ID).map((u) => u.new))];
  const have = [...new Set(upstreamHas.filter((oid) => oid !== ZERO_ID))];
  return [...tips, ...have.map((oid) => `^${oid}`)].map((line) => `${line}\n`).join("");
}

/** Of `oids`, those whose objects `env` sees (a negative pack-objects cannot find fails it). */
export async function presentObjects(env: GitEnv, oids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(oids.filter((oid) => /^[0-9a-f]{40}$/.test(oid) && oid !== ZERO_ID))];
  if (unique.length === 0) return [];
  const result = await runGit(["cat-file", "--batch-check=%(objectname)"], {
    env,
    input: Buffer.from(unique.map((oid) => `${oid}\n`).join("")),
  });
  if (result.code !== 0) return [];
  return result.stdout
    .toString("utf8")
    .split("\n")
    .filter((line) => /^[0-9a-f]{40}$/.test(line));
}

/**
 * Starts pack-objects writing the pack of `updates` over `upstreamHas` to its stdout (thin: the
 * upstream completes deltas against what it has). The caller reads stdout and checks the exit.
 */
export function startPushPack(
  env: GitEnv,
  updates: readonly RefUpdate[],
  upstreamHas: readonly string[],
): ChildProcessWithoutNullStreams {
  const child = spawn(
    "git",
    ["pack-objects", "--revs", "--stdout", "--thin", "--delta-base-offset", "-q"],
    { env, stdio: ["pipe", "pipe", "pipe"] },
  );
  child.stdin.on("error", () => undefined);
  child.stderr.resume();
  child.stdin.end(packRevisions(updates, upstreamHas));
  return child;
}
