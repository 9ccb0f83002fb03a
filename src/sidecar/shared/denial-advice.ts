/**
 * What a refused agent is told to do next. With supervise on, it can ask itself: the advice names
 * the `request_egress` tool of the bottle's supervise MCP server (and `wait_for_decision`); without
 * it, the operator's command (`bottle policy allow`, from command-lines.ts).
 */
import { commandLines, IDENTITY_SLOT } from "../../core/command-lines.js";

/** The tool names, as the supervise gate registers them. */
export const TOOL_NAMES = {
  listRules: "list_egress_rules",
  recentDenials: "recent_denials",
  requestEgress: "request_egress",
  requestPushBranch: "request_push_branch",
  waitForDecision: "wait_for_decision",
} as const;

export interface AdviceInput {
  /** The host as shown (displayHost). */
  host: string;
  port?: number;
  /** The refusal was for an internal address (the operator's allow needs --internal). */
  internal: boolean;
  supervise: boolean;
}

export function askAdvice(input: AdviceInput): string {
  if (input.supervise) {
    const port = input.port === undefined ? "" : `, ports: [${input.port}]`;
    return (
      `If the task needs it, ask the operator with the \`${TOOL_NAMES.requestEgress}\` tool ` +
      `(host: "${input.host}"${port}, and your reason), then call ` +
      `\`${TOOL_NAMES.waitForDecision}\` with the request id it returns.`
    );
  }
  const example = commandLines.policyAllow(IDENTITY_SLOT, input.host, {
    internal: input.internal,
  });
  return `If the task needs it, ask the operator to allow it, for example \`${example}\`.`;
}
