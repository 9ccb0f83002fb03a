/**
 * The dashboard's API as plain data (PURE): what a request to /api/ carries once read, what a
 * handler answers, and the actions the page (or a script) may post. Actions are parsed here with
 * zod, so a malformed body is refused whole before anything is done.
 */
import { z } from "zod";

export interface ApiRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The parsed JSON body of a POST; undefined when there was none. */
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export function ok(body: unknown): ApiResponse {
  return { status: 200, body };
}

export function problem(status: number, message: string, hint?: string): ApiResponse {
  return { status, body: hint === undefined ? { error: message } : { error: message, hint } };
}

const identity = z.string().min(1).max(128).describe("the bottle's identity");
const requestRef = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\/r-[0-9a-f]{6,12}$/)
  .describe("<identity>/<request id>");
const list = z.array(z.string().min(1).max(200)).max(50);

/** How an approval is scoped and narrowed (the CLI's --once/--for/--bottle, --methods, --paths). */
const grantFields = {
  request: requestRef,
  scope: z.enum(["once", "for", "bottle"]).default("bottle"),
  /** For scope `for`: `30m`, `1h`, `2d`. */
  duration: z.string().max(20).optional(),
  methods: list.optional(),
  paths: list.optional(),
  note: z.string().max(500).optional(),
  /** Egress: the name may resolve to an internal address (the CLI's --internal). */
  internal: z.boolean().optional(),
};

export const actionSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("stop"), bottle: identity }),
  z.strictObject({ action: z.literal("resume"), bottle: identity }),
  /** What approving would grant, with its risk flags; writes nothing. */
  z.strictObject({ action: z.literal("preview"), ...grantFields }),
  /** Approves the revision the operator was shown (409 when the request changed since). */
  z.strictObject({
    action: z.literal("approve"),
    ...grantFields,
    revision: z.number().int().min(1),
  }),
  z.strictObject({
    action: z.literal("deny"),
    request: requestRef,
    reason: z.string().max(500).optional(),
  }),
  /** `bottle policy allow`: an operator rule (no request), e.g. from "allow this" on a denial. */
  z.strictObject({
    action: z.literal("policy-allow"),
    bottle: identity,
    host: z.string().min(1).max(253),
    ports: z.array(z.number().int().min(1).max(65535)).max(20).optional(),
    methods: list.optional(),
    paths: list.optional(),
    internal: z.boolean().default(false),
  }),
  z.strictObject({
    action: z.literal("policy-remove"),
    bottle: identity,
    host: z.string().min(1).max(253),
  }),
]);

export type Action = z.input<typeof actionSchema>;
export type ParsedAction = z.output<typeof actionSchema>;
