/**
 * Approved push-branch requests: the git gate's branch patterns widened beyond the manifest. The
 * grants are saved in `push-grants.json` (added to sidecar.json at every start and resume) and,
 * in a running bottle, handed to the sidecar at once (PUT /git/branches). No terminal I/O.
 */
import { controlRequest } from "../backend/docker/control-client.js";
import { BottleError } from "../core/errors.js";
import { branchPatternProblem } from "../core/policy/branch-pattern.js";
import type { Decision } from "../core/requests/request.js";
import type { PushGrant } from "../core/state/push-grants.js";
import {
  grantedBranches,
  pushGrantsFile,
  readPushGrants,
  writePushGrants,
} from "../core/state/push-grants.js";
import { withStateLock } from "../core/state/state-lock.js";
import type { BottleRef } from "./bottle-ref.js";
import type { PolicyEffect } from "./policy.js";

export interface BranchChange {
  entry: string;
  before: string[];
  after: string[];
}

export interface PushBranchSpec {
  pattern: string;
  entry: string | null;
}

/**
 * Each git entry's branch patterns before and after granting `spec`. Throws BottleError `usage`
 * when the bottle has no such entry (or none at all), or the pattern is not one git can take.
 */
export function branchChanges(ref: BottleRef, spec: PushBranchSpec): BranchChange[] {
  const problem = branchPatternProblem(spec.pattern);
  if (problem !== null) {
    throw new BottleError("usage", `Branch pattern "${spec.pattern}" ${problem}.`, {
      hint: "Deny the request with a reason; the agent can ask again with a valid pattern.",
    });
  }
  const entries = (ref.plan?.git ?? []).filter((e) => spec.entry === null || e.name === spec.entry);
  if (entries.length === 0) {
    throw new BottleError(
      "usage",
      spec.entry === null
        ? `Bottle ${ref.identity} has no git entries to push through.`
        : `Bottle ${ref.identity} has no git entry "${spec.entry}".`,
      { hint: "Deny the request; push branches widen the git gate of a bottle with git entries." },
    );
  }
  const grants = readPushGrants(ref.paths);
  return entries.map((entry) => {
    const before = grantedBranches(entry.name, entry.push.branches, grants);
    return { entry: entry.name, before, after: [...new Set([...before, spec.pattern])] };
  });
}

/**
 * Saves the grant and, in a running bottle, hands every widened entry's patterns to the sidecar
 * first (a sidecar that refuses leaves nothing saved). The whole read-change-write runs under the
 * bottle's `push-grants.json.lock`: two approvals at once each see the other's grant, so neither
 * the file nor the sidecar's list loses one.
 */
export async function grantPushBranch(
  ref: BottleRef,
  decision: Decision,
  spec: PushBranchSpec,
): Promise<PolicyEffect> {
  return withStateLock(`${pushGrantsFile(ref.paths)}.lock`, async () => {
    const changes = branchChanges(ref, spec);
    const grant: PushGrant = {
      entry: spec.entry,
      pattern: spec.pattern,
      request_id: decision.request_id,
      added_by: decision.by,
      added_at: decision.decided_at,
    };
    if (ref.running) {
      const branches = Object.fromEntries(changes.map((c) => [c.entry, c.after]));
      await controlRequest(ref.paths.controlSocket, "PUT", "/git/branches", { branches });
    }
    writePushGrants(ref.paths, [...readPushGrants(ref.paths), grant]);
    return ref.running ? "live" : "on-resume";
  });
}
