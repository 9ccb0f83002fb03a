/**
 * `bottle policy list|allow|deny|remove <identity> ...`: the egress rules of a bottle, live. The
 * changes themselves are the operator layer's (src/operator/policy.ts); this renders them.
 */
import type { EgressRules, PolicyChange } from "../../core/policy/policy-change.js";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import { bottleRef } from "../../operator/bottle-ref.js";
import type { PolicyUpdate } from "../../operator/policy.js";
import { changePolicy, policyInForce, updatePolicy } from "../../operator/policy.js";
import type { CommandContext } from "../context.js";
import { operatorName } from "../context.js";

/** Where a rule came from, who added it and when, and until when it holds. */
export function provenance(rule: PlanEgressRule, now: Date): string {
  const from =
    rule.source === "request" && rule.request_id !== null
      ? `request ${rule.request_id}`
      : rule.source;
  const who = [rule.added_by, rule.added_at?.replace(/\.\d+Z$/, "Z")].filter(
    (x): x is string => typeof x === "string" && x !== "",
  );
  const until =
    rule.expires_at === null
      ? ""
      : Date.parse(rule.expires_at) <= now.getTime()
        ? `expired ${rule.expires_at.replace(/\.\d+Z$/, "Z")}`
        : `until ${rule.expires_at.replace(/\.\d+Z$/, "Z")}`;
  return [from, who.length > 0 ? `by ${who.join(" at ")}` : "", until, rule.once ? "once" : ""]
    .filter((x) => x !== "")
    .join(", ");
}

export function renderRules(rules: EgressRules, now = new Date()): string {
  const lines = ["allow:"];
  if (rules.allow.length === 0) lines.push("  (nothing: every request is denied)");
  for (const r of rules.allow) {
    const extras = [
      r.ports.join(",") === "443,80" ? "" : `ports ${r.ports.join(",")}`,
      r.methods === null ? "" : r.methods.join("|"),
      r.paths === null ? "" : `paths ${r.paths.join(" ")}`,
      r.tls === "passthrough" ? "passthrough" : "",
      r.internal ? "internal" : "",
      `(${provenance(r, now)})`,
    ].filter((x) => x !== "");
    lines.push(`  ${r.host}  ${extras.join("  ")}`);
  }
  lines.push("deny:");
  if (rules.deny.length === 0) lines.push("  (none)");
  for (const host of rules.deny) lines.push(`  ${host}`);
  return lines.join("\n");
}

export async function policyListCommand(
  identity: string,
  options: { json: boolean },
  ctx: CommandContext,
): Promise<void> {
  const { rules, effect } = await policyInForce(ctx.host, identity);
  if (options.json) {
    ctx.io.out(JSON.stringify(rules, null, 2));
    return;
  }
  ctx.io.out(renderRules(rules));
  if (effect === "on-resume")
    ctx.io.err("(the bottle is not running: these are in force from its next resume)");
}

function reportUpdate(what: string, update: PolicyUpdate, ctx: CommandContext): void {
  ctx.io.err(
    `${what}: saved${update.effect === "live" ? " and in force in the running bottle" : "; in force from the next resume"}.`,
  );
}

/** Applies a change, stores it, and hands it to the running sidecar (effective next request). */
export async function policyChangeCommand(
  identity: string,
  change: PolicyChange,
  ctx: CommandContext,
): Promise<void> {
  const update = await changePolicy(ctx.host, identity, change, operatorName(ctx));
  reportUpdate(`${change.kind} ${change.host}`, update, ctx);
}

/** `bottle policy remove <identity> --request <id>`: takes back what an approval granted. */
export async function policyRemoveRequestCommand(
  identity: string,
  requestId: string,
  ctx: CommandContext,
): Promise<void> {
  const update = await updatePolicy(bottleRef(ctx.host, identity), {
    op: "remove-request",
    request_id: requestId,
  });
  reportUpdate(`removed the rules of request ${requestId}`, update, ctx);
}
