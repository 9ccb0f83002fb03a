/**
 * Branch patterns the operator granted a bottle's git gate beyond its manifest (approved
 * `request_push_branch` requests): `state/<identity>/push-grants.json`, written by the host only.
 * At every start and resume the host adds them to the git entries' `push.branches` in
 * sidecar.json; while the bottle runs, an approval also hands the widened list to the sidecar
 * (PUT /git/branches), so it is in force for the next push.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { parseContract } from "../contract/contract.js";
import type { BottlePaths } from "./bottle-state.js";
import { writeJsonAtomic } from "./bottle-state.js";

export const PUSH_GRANTS_FILE = "push-grants.json";

export const pushGrantSchema = z.strictObject({
  /** The git entry it widens, or null for every entry of the bottle. */
  entry: z.string().nullable(),
  pattern: z.string().min(1),
  request_id: z.string().nullable(),
  added_by: z.string(),
  added_at: z.iso.datetime(),
});

export const pushGrantsSchema = z.strictObject({ grants: z.array(pushGrantSchema) });

export type PushGrant = z.infer<typeof pushGrantSchema>;

export function pushGrantsFile(paths: BottlePaths): string {
  return path.join(paths.dir, PUSH_GRANTS_FILE);
}

/** The grants of a bottle (none when the file is missing). Throws naming the file when malformed. */
export function readPushGrants(paths: BottlePaths): PushGrant[] {
  const file = pushGrantsFile(paths);
  if (!fs.existsSync(file)) return [];
  return parseContract(pushGrantsSchema, JSON.parse(fs.readFileSync(file, "utf8")), file).grants;
}

export function writePushGrants(paths: BottlePaths, grants: readonly PushGrant[]): void {
  writeJsonAtomic(pushGrantsFile(paths), { grants });
}

/** PURE: an entry's branch patterns with the grants that apply to it added (no duplicates). */
export function grantedBranches(
  entry: string,
  branches: readonly string[],
  grants: readonly PushGrant[],
): string[] {
  const added = grants.filter((g) => g.entry === null || g.entry === entry).map((g) => g.pattern);
  return [...new Set([...branches, ...added])];
}
