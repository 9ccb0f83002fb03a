/** `bottle policy list|allow|deny|remove <identity> ...`: the egress rules of a bottle, live. */
import { controlRequest } from "../../backend/docker/control-client.js";
import { commandLines } from "../../core/command-lines.js";
import { BottleError } from "../../core/errors.js";
import type { EgressRules, PolicyChange } from "../../core/policy/policy-change.js";
import { applyPolicyChange } from "../../core/policy/policy-change.js";
import { bottlePaths, readMetadata } from "../../core/state/bottle-state.js";
import { readRules, writeRules } from "../../core/state/policy-store.js";
import type { CommandContext } from "../context.js";

export function renderRules(rules: EgressRules): string {
  const lines = ["allow:"];
  if (rules.allow.length === 0) lines.push("  (nothing: every request is denied)");
  for (const r of rules.allow) {
    const extras = [
      r.ports.join(",") === "443,80" ? "" : `ports ${r.ports.join(",")}`,
      r.methods === null ? "" : r.methods.join("|"),
      r.paths === null ? "" : `paths ${r.paths.join(" ")}`,
      r.tls === "passthrough" ? "passthrough" : "",
      r.internal ? "internal" : "",
      `(${r.source})`,
    ].filter((x) => x !== "");
    lines.push(`  ${r.host}  ${extras.join("  ")}`);
  }
  lines.push("deny:");
  if (rules.deny.length === 0) lines.push("  (none)");
  for (const host of rules.deny) lines.push(`  ${host}`);
  return lines.join("\n");
}

function loadRules(ctx: CommandContext, identity: string) {
  const paths = bottlePaths(ctx.host, identity);
  const rules = readMetadata(paths) === undefined ? undefined : readRules(paths);
  if (rules === undefined) {
    throw new BottleError("bottle_unknown", `No bottle ${identity}.`, {
      hint: `\`${commandLines.list()}\` shows the bottles there are.`,
    });
  }
  return { paths, rules };
}

export function policyListCommand(
  identity: string,
  options: { json: boolean },
  ctx: CommandContext,
): void {
  const { rules } = loadRules(ctx, identity);
  ctx.io.out(options.json ? JSON.stringify(rules, null, 2) : renderRules(rules));
}

/** Applies a change, stores it, and hands it to the running sidecar (effective next request). */
export async function policyChangeCommand(
  identity: string,
  change: PolicyChange,
  ctx: CommandContext,
): Promise<void> {
  const { paths, rules } = loadRules(ctx, identity);
  const next = applyPolicyChange(rules, change);
  writeRules(paths, next);
  const running = readMetadata(paths)?.status === "running";
  if (running) await controlRequest(paths.controlSocket, "PUT", "/policy", next);
  ctx.io.err(
    `${change.kind} ${change.host}: saved${running ? " and in force in the running bottle" : "; in force from the next resume"}.`,
  );
}
