/**
 * The supervise tools on an MCP server. They only read the bottle's rules and audit log, file
 * requests (`<id>.json`, this side's file) and read decisions (`<id>.decision.json`, the host's):
 * nothing here can approve or change a rule. Every failure is a tool error with a text the model
 * can act on; nothing thrown here reaches the transport.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { isBottleError } from "../../core/errors.js";
import type { EgressRules } from "../../core/policy/policy-change.js";
import { normalizeHost, parseHostPattern } from "../../core/policy/domain-pattern.js";
import { branchPatternProblem } from "../../core/policy/branch-pattern.js";
import { fileRequest, readRequest } from "../../core/requests/request-store.js";
import type { RequestSpec } from "../../core/requests/request.js";
import { ruleExpired } from "../egress/egress-policy.js";
import { waitForOutcome, waitMs } from "./decision-wait.js";
import { lastDenials, readLogTail } from "./recent-denials.js";
import { toolDescriptions, toolSchemas } from "./tool-schemas.js";

export interface SuperviseAuditEntry {
  time: string;
  tool: string;
  /** `filed`, `merged`, `answered` (a read or a wait), `refused` (a tool error). */
  verdict: "filed" | "merged" | "answered" | "refused";
  request_id?: string;
  /** The status a wait returned, or why a call was refused. */
  detail?: string;
}

export interface SuperviseContext {
  identity: string;
  /** state/<identity>/requests as the sidecar sees it. */
  requestsDir: string;
  /** The egress audit log (recent_denials reads its tail). */
  egressAuditFile: string;
  /** The egress rules in force (live). */
  rules: () => EgressRules;
  /** The bottle's git entries (request_push_branch names one of them, or none). */
  gitEntries: readonly string[];
  audit: (entry: SuperviseAuditEntry) => void;
  now: () => Date;
}

function answer(value: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
    structuredContent: value,
  };
}

function refusal(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

function errorText(error: unknown): string {
  if (isBottleError(error))
    return error.hint === undefined ? error.message : `${error.message} ${error.hint}`;
  return `the request could not be filed: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Registers the tools on `server`. `ended` aborts when the HTTP exchange is over or the gate
 * stops: a wait in progress then returns at once instead of holding the process for up to 50 s.
 */
export function registerSuperviseTools(
  server: McpServer,
  ctx: SuperviseContext,
  ended?: AbortSignal,
): void {
  const log = (
    tool: string,
    verdict: SuperviseAuditEntry["verdict"],
    more: Partial<SuperviseAuditEntry> = {},
  ): void => {
    ctx.audit({ time: ctx.now().toISOString(), tool, verdict, ...more });
  };
  const refuse = (tool: string, message: string): CallToolResult => {
    log(tool, "refused", { detail: message.slice(0, 200) });
    return refusal(message);
  };
  const file = (tool: string, spec: RequestSpec, reason: string): CallToolResult => {
    try {
      const filed = fileRequest(ctx.requestsDir, ctx.identity, spec, reason, ctx.now());
      log(tool, filed.merged ? "merged" : "filed", { request_id: filed.request.id });
      return answer({
        request_id: filed.request.id,
        status: "pending",
        merged: filed.merged,
        ...(filed.merged ? { asked: filed.request.spec } : {}),
        note: "The operator decides. Call wait_for_decision with this request_id.",
      });
    } catch (error) {
      return refuse(tool, errorText(error));
    }
  };

  server.registerTool(
    "list_egress_rules",
    { description: toolDescriptions.list_egress_rules, inputSchema: toolSchemas.list_egress_rules },
    () => {
      const rules = ctx.rules();
      const now = ctx.now();
      log("list_egress_rules", "answered");
      return answer({
        allow: rules.allow.map((rule) => ({
          host: rule.host,
          ports: rule.ports,
          methods: rule.methods,
          paths: rule.paths,
          tls: rule.tls,
          source: rule.source,
          request_id: rule.request_id,
          expires_at: rule.expires_at,
          expired: ruleExpired(rule, now),
          once: rule.once,
        })),
        deny: rules.deny,
        default: "deny",
      });
    },
  );

  server.registerTool(
    "recent_denials",
    { description: toolDescriptions.recent_denials, inputSchema: toolSchemas.recent_denials },
    ({ limit }) => {
      const denials = lastDenials(readLogTail(ctx.egressAuditFile), limit ?? 20);
      log("recent_denials", "answered");
      return answer({ denials });
    },
  );

  server.registerTool(
    "request_egress",
    { description: toolDescriptions.request_egress, inputSchema: toolSchemas.request_egress },
    ({ host, ports, methods, paths, reason }) => {
      const parsed = parseHostPattern(host);
      if (!parsed.ok) {
        return refuse(
          "request_egress",
          `The host "${host.slice(0, 100)}" ${parsed.reason}. Name a host (api.example.com), its subdomains (*.example.com) or an IP address, without scheme, port or path.`,
        );
      }
      const spec: RequestSpec = {
        kind: "egress",
        egress: {
          host: normalizeHost(host),
          ports: ports === undefined ? null : [...new Set(ports)].sort((a, b) => a - b),
          methods:
            methods === undefined ? null : [...new Set(methods.map((m) => m.toUpperCase()))].sort(),
          paths: paths === undefined ? null : [...new Set(paths)].sort(),
        },
      };
      return file("request_egress", spec, reason);
    },
  );

  server.registerTool(
    "request_push_branch",
    {
      description: toolDescriptions.request_push_branch,
      inputSchema: toolSchemas.request_push_branch,
    },
    ({ pattern, entry, reason }) => {
      if (ctx.gitEntries.length === 0) {
        return refuse(
          "request_push_branch",
          "This bottle has no git repositories behind its git gate, so there is no push to widen.",
        );
      }
      const problem = branchPatternProblem(pattern);
      if (problem !== null) return refuse("request_push_branch", `The branch pattern ${problem}.`);
      if (entry !== undefined && !ctx.gitEntries.includes(entry)) {
        return refuse(
          "request_push_branch",
          `No git entry "${entry.slice(0, 100)}" in this bottle; it has: ${ctx.gitEntries.join(", ")}.`,
        );
      }
      return file(
        "request_push_branch",
        { kind: "push-branch", push_branch: { pattern, entry: entry ?? null } },
        reason,
      );
    },
  );

  server.registerTool(
    "wait_for_decision",
    { description: toolDescriptions.wait_for_decision, inputSchema: toolSchemas.wait_for_decision },
    async ({ request_id: id, timeout_s: timeout }, extra) => {
      const read = () => readRequest(ctx.requestsDir, id);
      let first;
      try {
        first = read();
      } catch (error) {
        return refuse("wait_for_decision", `Request ${id} cannot be read: ${errorText(error)}`);
      }
      if (first === undefined) {
        return refuse(
          "wait_for_decision",
          `No request ${id} in this bottle. Use the request_id that request_egress, request_push_branch or request_image_change returned.`,
        );
      }
      const safeRead = () => {
        try {
          return read();
        } catch {
          return first;
        }
      };
      const signal = ended === undefined ? extra.signal : AbortSignal.any([extra.signal, ended]);
      const outcome = await waitForOutcome(safeRead, waitMs(timeout), signal, ctx.now);
      if (outcome === undefined) return refuse("wait_for_decision", `Request ${id} is gone.`);
      log("wait_for_decision", "answered", { request_id: id, detail: outcome.status });
      return answer({ ...outcome });
    },
  );
}
