/**
 * Files the `codex` provider puts into the agent's home before the agent starts (a fresh bottle;
 * a resumed one gets its saved home back, transcripts in `~/.codex/sessions` included). PURE.
 *
 * - `~/.codex/config.toml`: model provider through the credential route, sandbox and approvals,
 *   trusted workspace, supervise MCP server (codex-config.ts).
 * - `~/.codex/AGENTS.md`: the agent's prompt, which Codex reads as the user's own instructions
 *   for every session (it has no flag that appends to its system prompt).
 *
 * - `~/.codex/auth.json`, only for a ChatGPT login (`inject: chatgpt`): placeholders
 *   (codex-auth.ts). With an API key there is none: the key is the placeholder in OPENAI_API_KEY.
 */
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { AGENT_HOME } from "../../core/plan/layout.js";
import type { ProvisionFile } from "../provision.js";
import { placeholderAuthJson } from "./codex-auth.js";
import { codexConfig, usesChatgptLogin } from "./codex-config.js";

export const CODEX_HOME = `${AGENT_HOME}/.codex`;

export function codexHomeFiles(plan: BottlePlan): ProvisionFile[] {
  const files: ProvisionFile[] = [
    { path: `${CODEX_HOME}/config.toml`, content: codexConfig(plan), mode: 0o600 },
  ];
  if (usesChatgptLogin(plan)) {
    files.push({ path: `${CODEX_HOME}/auth.json`, content: placeholderAuthJson(), mode: 0o600 });
  }
  if (plan.prompt !== null && plan.prompt.trim() !== "") {
    files.push({
      path: `${CODEX_HOME}/AGENTS.md`,
      content: `${plan.prompt.trimEnd()}\n`,
      mode: 0o644,
    });
  }
  return files;
}
