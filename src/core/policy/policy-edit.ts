/**
 * PURE: every change the operator makes to a bottle's egress rules, as data. The host never
 * hands a running sidecar a whole new rule set it computed from an earlier read (a `once` rule the
 * sidecar spent in between would come back); it sends one of these, and the sidecar applies it to
 * the rules in force at that moment and saves the result (the sidecar is policy.json's only writer
 * while it runs). A stopped bottle's edit is applied by the host to policy.json, read at resume.
 *
 *   change          `bottle policy allow|deny|remove`, the dashboard's allow/remove
 *   grant           an approved egress request: its rule added beside the others
 *   remove-request  `bottle policy remove <identity> --request <id>`
 *   replace         the whole rule set (tests and repairs; nothing in the product reads-then-replaces)
 *
 * Throws BottleError `usage` for an edit that cannot apply (a bad host pattern, nothing to remove):
 * nothing is changed then.
 */
import type { PlanEgressRule } from "../plan/bottle-plan.js";
import { withGrantedRule, withoutRequestRules } from "../requests/request-rules.js";
import type { EgressRules, PolicyChange } from "./policy-change.js";
import { applyPolicyChange } from "./policy-change.js";

export type PolicyEdit =
  | { op: "change"; change: PolicyChange }
  | { op: "grant"; rule: PlanEgressRule }
  | { op: "remove-request"; request_id: string }
  | { op: "replace"; rules: EgressRules };

export function applyPolicyEdit(rules: EgressRules, edit: PolicyEdit): EgressRules {
  switch (edit.op) {
    case "change":
      return applyPolicyChange(rules, edit.change);
    case "grant":
      return withGrantedRule(rules, edit.rule);
    case "remove-request":
      return withoutRequestRules(rules, edit.request_id);
    case "replace":
      return edit.rules;
  }
}
