/**
 * Files a provider puts into the agent's home before the agent starts (a fresh bottle only; a
 * resumed one gets its saved home back). Pure: the backend writes what this returns.
 *
 * Claude Code: `~/.claude.json` marks onboarding done, the workspace trusted (no trust dialog),
 * and the placeholder API key approved (the real key never enters the bottle; the credential
 * proxy swaps it in). In a supervised bottle it also registers the supervise MCP server (user
 * scope, http transport, http://127.0.0.1:3131/mcp through the relay) and `~/.claude/settings.json`
 * lets its tools run without a permission prompt (they only file and read requests).
 *
 * Credential roles, for every provider: `npm-registry` writes `~/.npmrc` pointing npm at the
 * route (with a placeholder token, which the proxy replaces); `git-https` rewrites the upstream's
 * URLs to the route in `~/.gitconfig` (`url.<route>.insteadOf`).
 *
 * Git entries: `~/.gitconfig` rewrites each upstream URL (as the manifest spells it, with or
 * without `.git`) to the git gate, `http://127.0.0.1:3130/<name>`. The agent keeps naming the
 * upstream; git sends it to the gate.
 */
import type { BottlePlan } from "../core/plan/bottle-plan.js";
import { AGENT_HOME, GATES, WORKSPACE_DIR } from "../core/plan/layout.js";
import { TOKEN_PLACEHOLDER, PLACEHOLDER_KEY } from "../core/plan/placeholders.js";
import { SUPERVISE_MCP_URL, SUPERVISE_SERVER_NAME } from "../core/plan/supervise-note.js";

export interface ProvisionFile {
  /** Absolute path in the agent container. */
  path: string;
  content: string;
  mode: number;
}

export { PLACEHOLDER_KEY } from "../core/plan/placeholders.js";

/** Claude Code's user-scope MCP servers: the supervise server in a supervised bottle. */
function claudeMcpServers(plan: BottlePlan): Record<string, unknown> {
  if (!plan.supervise) return {};
  return { mcpServers: { [SUPERVISE_SERVER_NAME]: { type: "http", url: SUPERVISE_MCP_URL } } };
}

function claudeState(plan: BottlePlan): Record<string, unknown> {
  return {
    ...claudeMcpServers(plan),
    hasCompletedOnboarding: true,
    lastOnboardingVersion: "2.1.330",
    autoUpdates: false,
    projects: {
      [WORKSPACE_DIR]: {
        hasTrustDialogAccepted: true,
        hasCompletedProjectOnboarding: true,
        allowedTools: [],
      },
    },
    customApiKeyResponses: { approved: [PLACEHOLDER_KEY.slice(-20)], rejected: [] },
  };
}

function routeUrl(path: string): string {
  return `http://127.0.0.1:${GATES.credentials.port}${path}/`;
}

/** The URL the agent's git reaches a git entry at: the gate, by the entry's name. */
function gateUrl(name: string): string {
  return `http://127.0.0.1:${GATES.git.port}/${name}`;
}

function insteadOf(url: string, upstream: string): string {
  return `[url "${url}"]\n\tinsteadOf = ${upstream}\n`;
}

/** `~/.gitconfig`: the git entries through the gate, `git-https` credential routes. */
function gitconfig(plan: BottlePlan): ProvisionFile[] {
  const sections = plan.git.map((entry) =>
    insteadOf(gateUrl(entry.name), entry.upstream.replace(/\.git$/, "")),
  );
  for (const cred of plan.credentials) {
    if (cred.role !== "git-https") continue;
    const upstream = cred.upstream.endsWith("/") ? cred.upstream : `${cred.upstream}/`;
    sections.push(insteadOf(routeUrl(cred.path), upstream));
  }
  if (sections.length === 0) return [];
  return [{ path: `${AGENT_HOME}/.gitconfig`, content: sections.join(""), mode: 0o644 }];
}

/** Files the bottle's credential roles need, whatever the provider. */
function roleFiles(plan: BottlePlan): ProvisionFile[] {
  const files: ProvisionFile[] = [...gitconfig(plan)];
  for (const cred of plan.credentials) {
    if (cred.role === "npm-registry") {
      const url = routeUrl(cred.path);
      const auth = url.replace(/^http:/, "");
      files.push({
        path: `${AGENT_HOME}/.npmrc`,
        content: `registry=${url}\n${auth}:_authToken=${TOKEN_PLACEHOLDER}\n`,
        mode: 0o600,
      });
    }
  }
  return files;
}

function providerFiles(plan: BottlePlan): ProvisionFile[] {
  switch (plan.provider) {
    case "claude":
      return [
        {
          path: `${AGENT_HOME}/.claude.json`,
          content: `${JSON.stringify(claudeState(plan), null, 2)}\n`,
          mode: 0o600,
        },
        ...(plan.supervise
          ? [
              {
                // The supervise tools only file and read requests: no permission prompt for them.
                path: `${AGENT_HOME}/.claude/settings.json`,
                content: `${JSON.stringify({ permissions: { allow: [`mcp__${SUPERVISE_SERVER_NAME}`] } }, null, 2)}\n`,
                mode: 0o644,
              },
            ]
          : []),
      ];
    default:
      return [];
  }
}

export function provisionFiles(plan: BottlePlan): ProvisionFile[] {
  return [...providerFiles(plan), ...roleFiles(plan)];
}
