/**
 * The operator's live changes to a bottle's egress rules (CLI `bottle policy`, approvals, the
 * dashboard). No terminal I/O: functions return what happened; callers render it.
 *
 * Where the rules live: in a running bottle, the sidecar holds the rules in force (it spends
 * `once` rules) and is the only writer of `policy.json`: every change is one edit (a
 * PolicyEdit, core/policy/policy-edit.ts) that the sidecar applies to its rules in force when
 * it arrives and saves (POST /policy/edit). The host never computes a rule set from an earlier
 * read and puts it back, so a `once` rule spent meanwhile stays spent. In a stopped bottle the host
 * applies the edit to `policy.json` itself; the sidecar reads it at resume. A change the sidecar
 * refuses is not saved. Every operator path (CLI, approvals, dashboard) goes through updatePolicy.
 */
import { controlRequest, editLivePolicy } from "../backend/docker/control-client.js";
import { egressRulesSchema, parseContract } from "../core/contract/contract.js";
import type { HostEnv } from "../core/host/paths.js";
import type { EgressRules, PolicyChange } from "../core/policy/policy-change.js";
import type { PolicyEdit } from "../core/policy/policy-edit.js";
import { applyPolicyEdit } from "../core/policy/policy-edit.js";
import { readRules, writeRules } from "../core/state/policy-store.js";
import type { BottleRef } from "./bottle-ref.js";
import { bottleRef } from "./bottle-ref.js";

export type { PolicyChange } from "../core/policy/policy-change.js";
export type { PolicyEdit } from "../core/policy/policy-edit.js";

/** Where a change took effect: at once in the running sidecar, or from the next resume. */
export type PolicyEffect = "live" | "on-resume";

export interface PolicyUpdate {
  identity: string;
  rules: EgressRules;
  effect: PolicyEffect;
}

function savedRules(ref: BottleRef): EgressRules {
  const rules = readRules(ref.paths);
  // A bottle with metadata always has a plan; a missing one is a broken state folder.
  if (rules === undefined) return { allow: [], deny: [] };
  return rules;
}

/**
 * The rules in force: the running sidecar's (asked over the control socket), else the saved ones.
 * Throws BottleError `bottle_unknown`, or `bottle_not_running` when a running bottle's sidecar
 * does not answer.
 */
export async function policyInForce(host: HostEnv, identity: string): Promise<PolicyUpdate> {
  const ref = bottleRef(host, identity);
  if (!ref.running) return { identity, rules: savedRules(ref), effect: "on-resume" };
  const live = await controlRequest(ref.paths.controlSocket, "GET", "/policy");
  return {
    identity,
    rules: parseContract(egressRulesSchema, live, "the sidecar's rules"),
    effect: "live",
  };
}

/**
 * Applies `edit` to the bottle: a running bottle's sidecar applies it to its rules in force and
 * saves them; a stopped bottle's policy.json is changed by the host. Throws the edit's BottleError
 * (`usage`: nothing to remove, a bad host) with nothing changed, or `bottle_not_running` when a
 * running bottle's sidecar does not answer.
 */
export async function updatePolicy(ref: BottleRef, edit: PolicyEdit): Promise<PolicyUpdate> {
  if (!ref.running) {
    const rules = applyPolicyEdit(savedRules(ref), edit);
    writeRules(ref.paths, rules);
    return { identity: ref.identity, rules, effect: "on-resume" };
  }
  const rules = await editLivePolicy(ref.paths, edit);
  return { identity: ref.identity, rules, effect: "live" };
}

/**
 * `bottle policy allow|deny|remove`: one change by the operator, recorded as theirs (`by`, e.g.
 * `cli:alice`) at `now`.
 */
export async function changePolicy(
  host: HostEnv,
  identity: string,
  change: PolicyChange,
  by: string,
  now = new Date(),
): Promise<PolicyUpdate> {
  const ref = bottleRef(host, identity);
  const recorded: PolicyChange =
    change.kind === "allow" ? { ...change, added_by: by, added_at: now.toISOString() } : change;
  return updatePolicy(ref, { op: "change", change: recorded });
}
