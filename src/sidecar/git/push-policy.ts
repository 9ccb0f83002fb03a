/**
 * What the git gate lets an agent push, PURE: per ref update, allowed or refused with a reason the
 * agent can act on, from the git entry's push policy.
 *
 * - A ref name git itself would refuse, or one that is neither a branch nor a tag, is refused
 *   first (ref-name.ts).
 * - Only branches (`refs/heads/...`) whose name matches a pattern of `branches` may be updated.
 *   In a pattern, `*` matches any characters but `/`, and `**` any characters, `/` included:
 *   `bottle/abc/*` matches `bottle/abc/feature`, not `bottle/abc/x/y`. Tags and other refs are
 *   refused unless a pattern names them in full (`refs/tags/v*`).
 * - Deleting a ref is refused unless `delete` is set; a non-fast-forward update unless `force`.
 * - A push whose new objects weigh more than `max_size_bytes` is refused whole.
 */

import { branchPatternRegex } from "../../core/policy/branch-pattern.js";
import { refNameProblem } from "./ref-name.js";

export const ZERO_ID = "0".repeat(40);

export interface PushPolicy {
  branches: string[];
  force: boolean;
  delete: boolean;
  max_size_bytes: number;
}

export interface RefUpdate {
  ref: string;
  old: string;
  new: string;
  /** Whether `new` descends from `old` (true for a new ref or a deletion). */
  fastForward: boolean;
}

export interface RefVerdict {
  ref: string;
  allowed: boolean;
  reason: string;
}

function shortName(ref: string): string {
  return ref.replace(/^refs\/heads\//, "");
}

export function judgeRef(policy: PushPolicy, update: RefUpdate): RefVerdict {
  const allowedNames = policy.branches.join(", ");
  const badName = refNameProblem(update.ref);
  if (badName !== null) return { ref: update.ref, allowed: false, reason: badName };
  if (!policy.branches.some((p) => branchPatternRegex(p).test(update.ref))) {
    return {
      ref: update.ref,
      allowed: false,
      reason: `${shortName(update.ref)} is protected: this bottle may push only to ${allowedNames}`,
    };
  }
  if (update.new === ZERO_ID && !policy.delete) {
    return {
      ref: update.ref,
      allowed: false,
      reason: `deleting ${shortName(update.ref)} is not allowed in this bottle`,
    };
  }
  if (update.old !== ZERO_ID && update.new !== ZERO_ID && !update.fastForward && !policy.force) {
    return {
      ref: update.ref,
      allowed: false,
      reason: `${shortName(update.ref)} would be rewritten (not a fast-forward); force pushes are not allowed in this bottle`,
    };
  }
  return { ref: update.ref, allowed: true, reason: "allowed" };
}

/**
 * What each ref of a refused push is told, PURE: a refused ref its own reason; an allowed one
 * that it was not sent because of the refs that were refused, named.
 */
export function refusalsByRef(verdicts: readonly RefVerdict[]): Map<string, string> {
  const refused = verdicts.filter((v) => !v.allowed);
  const names = refused.map((v) => shortName(v.ref)).join(", ");
  return new Map(
    verdicts.map((v) => [
      v.ref,
      v.allowed
        ? `${shortName(v.ref)} itself is allowed, but was not sent: the push is refused whole because ${refused.length === 1 ? "another ref was" : "other refs were"} refused (${names})`
        : v.reason,
    ]),
  );
}

/** Judges a whole push: each ref, then the size. Any refusal refuses the push. */
export function judgePush(
  policy: PushPolicy,
  updates: readonly RefUpdate[],
  sizeBytes: number,
): { allowed: boolean; refs: RefVerdict[]; reason: string } {
  const refs = updates.map((update) => judgeRef(policy, update));
  const refused = refs.find((verdict) => !verdict.allowed);
  if (refused !== undefined) return { allowed: false, refs, reason: refused.reason };
  if (sizeBytes > policy.max_size_bytes) {
    return {
      allowed: false,
      refs,
      reason: `the push carries ${sizeBytes} bytes, more than the ${policy.max_size_bytes} this bottle accepts`,
    };
  }
  return { allowed: true, refs, reason: "allowed" };
}
