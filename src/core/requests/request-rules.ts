/**
 * PURE: how an approved egress request changes a bottle's rules, and how it is taken back.
 *
 * An approval adds its rule beside the rules in force and never replaces one: a manifest rule for
 * the same host (say GET only) keeps working when a request for POST on one path is approved, and
 * removing the approval leaves the manifest rule as it was. A deny pattern naming exactly the
 * granted host is lifted (as the built-in deny list is lifted by an allow rule naming its host):
 * otherwise the approval would have no effect, deny rules winning. The preview shows the lift.
 */
import { commandLines, IDENTITY_SLOT } from "../command-lines.js";
import { BottleError } from "../errors.js";
import type { PlanEgressRule } from "../plan/bottle-plan.js";
import { hostMatches, normalizeHost, parseHostPattern } from "../policy/domain-pattern.js";
import type { EgressRules } from "../policy/policy-change.js";

/** The deny patterns an approval of `host` lifts: those naming exactly that host. */
export function liftedDenies(rules: EgressRules, host: string): string[] {
  const name = normalizeHost(host);
  return rules.deny.filter((pattern) => normalizeHost(pattern) === name);
}

/**
 * Deny patterns an approval of `host` does not lift but which still cover it (a wildcard deny):
 * the grant has no effect while they stand. The preview says so.
 */
export function stillDenying(rules: EgressRules, host: string): string[] {
  const name = normalizeHost(host);
  return rules.deny.filter((pattern) => {
    if (normalizeHost(pattern) === name) return false;
    const parsed = parseHostPattern(pattern);
    return parsed.ok && hostMatches(parsed.pattern, name.replace(/^\*\./, "x."));
  });
}

/**
 * `rules` with `rule` (approved from request `rule.request_id`) added. An earlier rule of the same
 * request (a re-approval after it expired or was consumed) is replaced.
 */
export function withGrantedRule(rules: EgressRules, rule: PlanEgressRule): EgressRules {
  const lifted = new Set(liftedDenies(rules, rule.host));
  return {
    allow: [
      ...rules.allow.filter((r) => rule.request_id === null || r.request_id !== rule.request_id),
      rule,
    ],
    deny: rules.deny.filter((pattern) => !lifted.has(pattern)),
  };
}

/** The rules approved from `requestId`. */
export function requestRules(rules: EgressRules, requestId: string): PlanEgressRule[] {
  return rules.allow.filter((r) => r.request_id === requestId);
}

/**
 * `rules` without the rules approved from request `requestId` (`bottle policy remove <identity>
 * --request <id>`). Throws BottleError `usage` when the bottle has none (already removed, expired
 * and dropped, or consumed).
 */
export function withoutRequestRules(rules: EgressRules, requestId: string): EgressRules {
  if (requestRules(rules, requestId).length === 0) {
    throw new BottleError("usage", `No rule in force came from request ${requestId}.`, {
      hint: `It may have expired or been used up (scope once). \`${commandLines.policyList(IDENTITY_SLOT)}\` shows the rules and where each came from.`,
    });
  }
  return { allow: rules.allow.filter((r) => r.request_id !== requestId), deny: rules.deny };
}
