/**
 * `~/.codex/config.toml` for a bottle, PURE: the Codex CLI's settings as bot-bottle runs it.
 *
 * - Model traffic: a model provider `bot-bottle` whose base URL is the bottle's `openai-base-url`
 *   credential route on the relay (`http://127.0.0.1:3129/<route>`), speaking the Responses API,
 *   with its key read from `OPENAI_API_KEY`, which holds a placeholder; the credential proxy in
 *   the sidecar replaces it with the real key. With `inject: chatgpt` on the route (a ChatGPT
 *   login), the provider uses Codex's own login instead (`requires_openai_auth`), which is a
 *   placeholder auth.json (codex-auth.ts). Without such a route no provider is written.
 * - Sandbox and approvals: `sandbox_mode = "danger-full-access"` and `approval_policy = "never"`.
 *   The bottle is the sandbox (no network, no capabilities, gVisor); Codex's own sandbox (Landlock
 *   and seccomp, or bubblewrap) cannot be set up inside it, and an unattended run has nobody to
 *   answer an approval prompt. docs/ARCHITECTURE.md says why this is safe here.
 * - `/workspace` is a trusted project: the interactive CLI asks no trust question there. (`codex
 *   exec` still wants a git repository or `--skip-git-repo-check`.)
 * - No update check, no analytics, no plugins (fetched from GitHub and chatgpt.com at every
 *   start). What is left: the interactive CLI fetches its startup tip from
 *   raw.githubusercontent.com whatever the settings say; the egress gate refuses it, and the CLI
 *   shows a built-in tip instead.
 * - Supervise: `[mcp_servers.supervise]` with the supervise gate's Streamable HTTP URL, only when
 *   the bottle has `supervise: true`.
 */
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { GATES, WORKSPACE_DIR } from "../../core/plan/layout.js";

/** The model provider's id in config.toml. */
export const CODEX_PROVIDER_ID = "bot-bottle";
/** The environment variable Codex reads the (placeholder) key from. */
export const CODEX_KEY_ENV = "OPENAI_API_KEY";
/** Where the supervise gate's MCP server answers inside a bottle. */
export const SUPERVISE_MCP_URL = `http://127.0.0.1:${GATES.supervise.port}/mcp`;

/**
 * A TOML basic string. JSON's string escapes are TOML's, except that TOML refuses DEL and lone
 * surrogates, which no value written here (URLs, paths, names) holds; refused rather than written.
 */
export function tomlString(value: string): string {
  if (/[\u007f\ud800-\udfff]/.test(value)) {
    throw new Error("a value for config.toml holds a character TOML cannot carry");
  }
  return JSON.stringify(value);
}

function modelRoute(plan: BottlePlan): BottlePlan["credentials"][number] | undefined {
  return plan.credentials.find((c) => c.role === "openai-base-url");
}

/** The credential route's URL on the relay, without a trailing slash. */
export function modelBaseUrl(plan: BottlePlan): string | undefined {
  const route = modelRoute(plan);
  if (route === undefined) return undefined;
  return `http://127.0.0.1:${GATES.credentials.port}${route.path.replace(/\/+$/, "")}`;
}

/** Whether the model route carries a ChatGPT login (`inject: chatgpt`) rather than an API key. */
export function usesChatgptLogin(plan: BottlePlan): boolean {
  return modelRoute(plan)?.inject === "chatgpt";
}

function section(header: string, entries: Record<string, string | boolean>): string {
  const lines = Object.entries(entries).map(
    ([key, value]) => `${key} = ${typeof value === "boolean" ? String(value) : tomlString(value)}`,
  );
  return `[${header}]\n${lines.join("\n")}\n`;
}

export function codexConfig(plan: BottlePlan): string {
  const baseUrl = modelBaseUrl(plan);
  const top: Record<string, string | boolean> = {
    ...(baseUrl === undefined ? {} : { model_provider: CODEX_PROVIDER_ID }),
    // The bottle is the sandbox; an unattended run has nobody to approve (see the file comment).
    sandbox_mode: "danger-full-access",
    approval_policy: "never",
    check_for_update_on_startup: false,
  };
  const parts = [
    "# Written by bot-bottle when the bottle was started. The real key is never here: the\n" +
      "# credential proxy behind the base URL replaces the placeholder in $OPENAI_API_KEY.\n",
    Object.entries(top)
      .map(
        ([key, value]) =>
          `${key} = ${typeof value === "boolean" ? String(value) : tomlString(value)}`,
      )
      .join("\n") + "\n",
  ];
  if (baseUrl !== undefined) {
    parts.push(
      section(`model_providers.${CODEX_PROVIDER_ID}`, {
        name: "OpenAI through bot-bottle's credential proxy",
        base_url: baseUrl,
        // An API key: the placeholder in $OPENAI_API_KEY. A ChatGPT login: the placeholder
        // ~/.codex/auth.json (codex-auth.ts).
        ...(usesChatgptLogin(plan) ? { requires_openai_auth: true } : { env_key: CODEX_KEY_ENV }),
        wire_api: "responses",
      }),
    );
  }
  parts.push(section(`projects.${tomlString(WORKSPACE_DIR)}`, { trust_level: "trusted" }));
  parts.push(section("analytics", { enabled: false }));
  // Plugins are fetched from GitHub and chatgpt.com at every start; a bottle reaches neither.
  parts.push(section("features", { plugins: false }));
  if (plan.supervise) parts.push(section("mcp_servers.supervise", { url: SUPERVISE_MCP_URL }));
  return parts.join("\n");
}
