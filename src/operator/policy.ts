/**
 * The operator's live changes to a bottle's egress rules (CLI `bottle policy`, approvals, the
 * dashboard). No terminal I/O: functions return what happened; callers render it.
 *
 * Where the rules live: in a running bottle, the sidecar holds the rules in force (it consumes
 * `once` rules and drops expired ones), so a change starts from the sidecar's rules (GET /policy),
 * is handed to it whole (PUT /policy) and then saved as `policy.json` in the state folder, which
 * the sidecar reads again at resume. In a stopped bottle the change is saved only, and is in force
 * from the next resume. A change the sidecar refuses is not saved.
 */
import { controlRequest } from "../backend/docker/control-client.js";
import { egressRulesSchema, parseContract } from "../core/contract/contract.js";
import type { HostEnv } from "../core/host/paths.js";
import type { EgressRules, PolicyChange } from "../core/policy/policy-change.js";
import { applyPolicyChange } from "../core/policy/policy-change.js";
import { readRules, writeRules } from "../core/state/policy-store.js";
import type { BottleRef } from "./bottle-ref.js";
import { bottleRef } from "./bottle-ref.js";

export type { PolicyChange } from "../core/policy/policy-change.js";

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
 * Applies `change` (a pure function of the rules in force) to the bottle: handed to the running
 * sidecar first, then saved. Throws whatever `change` throws (nothing is changed then).
 */
export async function updatePolicy(
  ref: BottleRef,
  change: (rules: EgressRules) => EgressRules,
): Promise<PolicyUpdate> {
  if (!ref.running) {
    const rules = change(savedRules(ref));
    writeRules(ref.paths, rules);
    return { identity: ref.identity, rules, effect: "on-resume" };
  }
  const live = parseContract(
    egressRulesSchema,
    await controlRequest(ref.paths.controlSocket, "GET", "/policy"),
    "the sidecar's rules",
  );
  const rules = change(live);
  await controlRequest(ref.paths.controlSocket, "PUT", "/policy", rules);
  writeRules(ref.paths, rules);
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
  return updatePolicy(ref, (rules) => applyPolicyChange(rules, recorded));
}
