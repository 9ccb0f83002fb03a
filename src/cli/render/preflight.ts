/**
 * The preflight summary: what a start is about to do, in the words an operator checks before
 * answering y/N. Shows where each secret comes from, never a secret's value.
 */
import { commandLines } from "../../core/command-lines.js";
import type { BottlePlan, EnvSource, PlanEgressRule } from "../../core/plan/bottle-plan.js";
import { GATES } from "../../core/plan/layout.js";
import { SUPERVISE_NOTE } from "../../core/plan/supervise-note.js";

function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${Number(gib.toFixed(2))} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function formatRule(rule: PlanEgressRule): string {
  const parts = [rule.host];
  if (rule.ports.join(",") !== "443,80") parts.push(`ports ${rule.ports.join(",")}`);
  if (rule.methods !== null) parts.push(rule.methods.join("|"));
  if (rule.paths !== null) parts.push(`paths ${rule.paths.join(" ")}`);
  if (rule.tls === "passthrough") parts.push("passthrough");
  if (rule.source !== "manifest") parts.push(`(${rule.source})`);
  return parts.join("  ");
}

function formatEnv(name: string, source: EnvSource): string {
  if ("value" in source) return `${name}=${source.value}`;
  if ("from_host" in source) return `${name} <- host $${source.from_host}`;
  return `${name}=${source.from_bottle}`;
}

export function renderPreflight(plan: BottlePlan): string {
  const lines: string[] = [];
  const section = (title: string, items: readonly string[], empty = "none"): void => {
    lines.push(`  ${title}:`);
    if (items.length === 0) lines.push(`    ${empty}`);
    for (const item of items) lines.push(`    ${item}`);
  };
  lines.push(`Bottle ${plan.identity}`);
  lines.push(
    `  agent:     ${plan.agent} (${plan.provider}: ${plan.command.join(" ").replace(`\n\n${SUPERVISE_NOTE}`, " [+ the supervise note]").replace(SUPERVISE_NOTE, "[the supervise note]")}) in bottle ${plan.bottle}`,
  );
  lines.push(`  manifest:  ${plan.manifest}`);
  lines.push(
    `  runtime:   ${plan.runtime.resolved} (asked: ${plan.runtime.requested}; decided by ${plan.runtime.decided_by})`,
  );
  lines.push(
    `  limits:    memory ${formatBytes(plan.resources.memory_bytes)}, cpus ${plan.resources.nano_cpus / 1e9}, pids ${plan.resources.pids}`,
  );
  lines.push(
    `  images:    agent ${plan.images.agent.tag} (base ${plan.images.agent.base}), sidecar ${plan.images.sidecar.tag}`,
  );
  lines.push(
    `  network:   agent has none; gates through sockets in ${plan.mounts[0]?.target ?? "?"}`,
  );
  lines.push(
    `  workspace: ${plan.workspace.path}${plan.workspace.copy_from === null ? " (empty)" : ` (copy of ${plan.workspace.copy_from})`}`,
  );
  section(
    `egress (deny by default; tls ${plan.egress.tls}; dlp ${plan.egress.dlp}) allow`,
    plan.egress.allow.map(formatRule),
    "nothing: every request is denied",
  );
  if (plan.egress.deny.length > 0) section("egress deny", plan.egress.deny);
  section(
    "credentials (the agent gets placeholders)",
    plan.credentials.map((c) => {
      const source = "env" in c.token_source ? `$${c.token_source.env}` : c.token_source.file;
      return `${c.name}: ${c.path} -> ${c.upstream}  token from ${source}, sent as ${c.inject}${c.role === null ? "" : `  [${c.role}]`}`;
    }),
  );
  section(
    "git gate (the key stays outside)",
    plan.git.map((g) => {
      const allowed = [g.push.force ? "force" : "", g.push.delete ? "delete" : ""].filter(Boolean);
      const trust = g.host_keys.length > 0 ? "pinned host keys" : `host keys from ${g.known_hosts}`;
      return `${g.name}: ${g.upstream}  push ${g.push.branches.join(" ")}${allowed.length > 0 ? ` (${allowed.join(", ")} allowed)` : ""}, at most ${g.push.max_size_bytes} bytes; ${trust}`;
    }),
  );
  for (const r of plan.workspace.remotes) {
    lines.push(`  workspace remote ${r.remote} -> git gate ${r.entry} (${r.url})`);
  }
  section(
    "env",
    Object.entries(plan.env).map(([name, source]) => formatEnv(name, source)),
  );
  lines.push(
    `  supervise: ${plan.supervise ? `on: the agent can ask for more (MCP tools at 127.0.0.1:${GATES.supervise.port}/mcp); you decide: \`${commandLines.requests({ watch: true })}\`, then \`${commandLines.approve("<id>")}\` or \`${commandLines.deny("<id>")}\`` : `off: widen the policy yourself with \`${commandLines.policyAllow(plan.identity, "<host>")}\``}`,
  );
  for (const warning of plan.warnings) lines.push(`  warning: ${warning}`);
  return lines.join("\n");
}
