/**
 * The supervise tools' input schemas (zod, parsed by the MCP SDK where a call arrives) with the
 * descriptions a model reads. Plain data: supervise-tools.ts implements them.
 */
import { z } from "zod";
import { REASON_MAX_CHARS } from "../../core/requests/request.js";
import { MAX_WAIT_S } from "./decision-wait.js";

const reason = z
  .string()
  .min(1, "say why the task needs it")
  .max(REASON_MAX_CHARS, `at most ${REASON_MAX_CHARS} characters: say why in short`)
  .describe(
    `Why the task needs it, in one or two sentences the operator can judge (at most ${REASON_MAX_CHARS} characters). Never put a secret here.`,
  );

export const REQUEST_ID_PATTERN = /^r-[0-9a-f]{6,12}$/;

export const toolSchemas = {
  list_egress_rules: z.strictObject({}),
  recent_denials: z.strictObject({
    limit: z
      .number()
      .int()
      .min(1)
      .max(50)
      .optional()
      .describe("How many of the newest denials to return (1 to 50; default 20)."),
  }),
  request_egress: z.strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .describe(
        "The host to reach: a name (api.example.com), its subdomains (*.example.com) or an IP address. No scheme, port or path.",
      ),
    ports: z
      .array(z.number().int().min(1).max(65535))
      .min(1)
      .max(16)
      .optional()
      .describe("TCP ports; default 443 and 80."),
    methods: z
      .array(z.string().regex(/^[A-Za-z]{1,16}$/, "an HTTP method such as GET"))
      .min(1)
      .max(16)
      .optional()
      .describe("HTTP methods needed (GET, POST, ...); omit for any. Ask for the fewest."),
    paths: z
      .array(z.string().regex(/^\/\S{0,199}$/, "a path prefix starting with /"))
      .min(1)
      .max(16)
      .optional()
      .describe("Path prefixes needed (/v1/packages/); omit for any. Ask for the narrowest."),
    reason,
  }),
  request_push_branch: z.strictObject({
    pattern: z
      .string()
      .min(1)
      .max(200)
      .describe(
        "A branch pattern the git gate should let you push to: `*` matches within one path part (feature/*), `**` across parts.",
      ),
    entry: z
      .string()
      .min(1)
      .optional()
      .describe("The bottle's git entry (repository name) it is for; omit for every entry."),
    reason,
  }),
  wait_for_decision: z.strictObject({
    request_id: z
      .string()
      .regex(REQUEST_ID_PATTERN, "a request id such as r-1a2b3c")
      .describe("The id request_egress, request_push_branch or request_image_change returned."),
    timeout_s: z
      .number()
      .min(0)
      .max(MAX_WAIT_S)
      .optional()
      .describe(
        `Seconds to wait for the operator (at most ${MAX_WAIT_S}; default 30). On "pending", call again.`,
      ),
  }),
} as const;

export const toolDescriptions: Record<keyof typeof toolSchemas, string> = {
  list_egress_rules:
    "The bottle's egress rules in force: for each allowed host its ports, methods, paths, TLS handling, where the rule came from, and when it expires. Also the deny list. Everything else is refused.",
  recent_denials:
    "The bottle's latest refused network requests (time, host, port, method, path without query, rule, reason), newest first, so you can ask for exactly what was refused.",
  request_egress:
    "Ask the operator to allow network access to a host. Returns at once with a request_id and status pending; then call wait_for_decision. Asking again for the same host merges into the pending request. The operator may narrow or deny it.",
  request_push_branch:
    "Ask the operator to let you push to more branches through the git gate (a pattern such as feature/*). Returns at once with a request_id; then call wait_for_decision.",
  wait_for_decision:
    "Wait (at most 50 s) for the operator's decision on a request. Returns status approved, denied, expired or pending, the scope (once, for a duration, or for the bottle) and the operator's note. Pending only means not decided yet: call again.",
};
