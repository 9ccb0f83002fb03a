/**
 * `bottle doctor`'s checks of the manifest's agent programs. An agent whose program talks to a
 * model (Claude Code, Codex) needs, in its bottle, a credential with the program's role (for
 * Codex `openai-base-url`: the route its config.toml points at), and the token that credential
 * names must be set on this host, or `bottle start` refuses. Values are read to see that they are
 * there, never printed.
 */
import fs from "node:fs";
import path from "node:path";
import type { HostEnv } from "../../core/host/paths.js";
import { expandPath } from "../../core/host/paths.js";
import type { Manifest } from "../../core/manifest/schema.js";
import { providerSpec } from "../../core/plan/provider-spec.js";
import type { Check } from "./doctor.js";

/** What each role's upstream and token usually are, for the fix text. */
const ROLE_EXAMPLES: Record<string, { name: string; upstream: string; env: string; what: string }> =
  {
    "anthropic-base-url": {
      name: "anthropic",
      upstream: "https://api.anthropic.com",
      env: "ANTHROPIC_API_KEY",
      what: "an Anthropic API key (or a token from `claude setup-token`)",
    },
    "openai-base-url": {
      name: "openai",
      upstream: "https://api.openai.com/v1",
      env: "OPENAI_API_KEY",
      what: "an OpenAI API key",
    },
  };

function readable(file: string): boolean {
  try {
    return fs.readFileSync(file, "utf8").trim() !== "";
  } catch {
    return false;
  }
}

export function agentChecks(manifest: Manifest, manifestPath: string, host: HostEnv): Check[] {
  const checks: Check[] = [];
  for (const [name, agent] of Object.entries(manifest.agents)) {
    const spec = providerSpec(agent.provider);
    const role = spec.modelRole;
    if (role === undefined) continue;
    const example = ROLE_EXAMPLES[role];
    const who = `${name} (${spec.title})`;
    const bottle = manifest.bottles[agent.bottle];
    const cred = bottle?.credentials.find((c) => c.role === role);
    if (cred === undefined) {
      checks.push({
        name: "agent",
        status: "warn",
        detail: `${who} has no way to its model: bottle ${agent.bottle} has no credential with role ${role}`,
        fix:
          example === undefined
            ? `Add a credential with role ${role} to bottles.${agent.bottle}.credentials.`
            : `Add to bottles.${agent.bottle}.credentials: {name: ${example.name}, path: /${example.name}, upstream: ${example.upstream}, token: {env: ${example.env}}, role: ${role}}`,
      });
      continue;
    }
    const source = cred.token;
    const where =
      "env" in source
        ? `$${source.env}`
        : expandPath(source.file, host.home, path.dirname(manifestPath));
    const present =
      "env" in source
        ? (host.env[source.env] ?? "") !== ""
        : readable(expandPath(source.file, host.home, path.dirname(manifestPath)));
    checks.push(
      present
        ? {
            name: "agent",
            status: "ok",
            detail: `${who}: its key from ${where} goes only to the sidecar (route ${cred.path})`,
          }
        : {
            name: "agent",
            status: "warn",
            detail: `${who}: ${where} is ${"env" in source ? "not set" : "missing or empty"}, so \`start\` refuses this agent`,
            fix: `${"env" in source ? `Export ${example?.what ?? "the token"} as ${where}` : `Write ${example?.what ?? "the token"} to ${where}`}; it stays outside the bottle.`,
          },
    );
  }
  return checks;
}
