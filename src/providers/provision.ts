/**
 * Files a provider puts into the agent's home before the agent starts (a fresh bottle only; a
 * resumed one gets its saved home back). Pure: the backend writes what this returns.
 *
 * Claude Code: `~/.claude.json` marks onboarding done, the workspace trusted (no trust dialog),
 * and the placeholder API key approved (the real key never enters the bottle; the credential
 * proxy swaps it in).
 */
import type { BottlePlan } from "../core/plan/bottle-plan.js";
import { AGENT_HOME, WORKSPACE_DIR } from "../core/plan/layout.js";
import { PLACEHOLDER_KEY } from "../core/plan/placeholders.js";

export interface ProvisionFile {
  /** Absolute path in the agent container. */
  path: string;
  content: string;
  mode: number;
}

export { PLACEHOLDER_KEY } from "../core/plan/placeholders.js";

function claudeState(): Record<string, unknown> {
  return {
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

export function provisionFiles(plan: BottlePlan): ProvisionFile[] {
  switch (plan.provider) {
    case "claude":
      return [
        {
          path: `${AGENT_HOME}/.claude.json`,
          content: `${JSON.stringify(claudeState(), null, 2)}\n`,
          mode: 0o600,
        },
      ];
    default:
      return [];
  }
}
