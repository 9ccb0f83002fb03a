/**
 * The contract between the host and a bottle's sidecar, as zod schemas parsed at every boundary:
 * the sidecar's configuration (sidecar.json), the secrets handed over (PUT /secrets), the egress
 * rules (policy.json, GET /policy, POST /policy/edit) and the health report. Every object is strict: an unknown,
 * missing or mistyped field refuses the whole document, so nothing is ever half-applied.
 */
import { z } from "zod";
import { HEALTH_STATES } from "./health-states.js";

const nonEmpty = z.string().min(1);

export const egressRuleSchema = z.strictObject({
  host: nonEmpty,
  ports: z.array(z.number().int().min(1).max(65535)),
  methods: z.array(nonEmpty).nullable(),
  paths: z.array(z.string()).nullable(),
  tls: z.enum(["intercept", "passthrough"]),
  internal: z.boolean(),
  /** `manifest`, `provider:<name>`, `operator` (`bottle policy allow`) or `request` (approved). */
  source: z.string(),
  // Provenance and scope. Each defaults, so a policy.json written before they existed still loads.
  /** The supervise request the rule was approved from, or null. */
  request_id: z.string().nullable().default(null),
  /** Who added it (`cli:<user>`, `dashboard:<user>`), or null for the plan's rules. */
  added_by: z.string().nullable().default(null),
  /** When it was added (ISO), or null for the plan's rules. */
  added_at: z.iso.datetime().nullable().default(null),
  /** When it stops matching (ISO; the sidecar enforces it), or null for never. */
  expires_at: z.iso.datetime().nullable().default(null),
  /** True: the first request or tunnel it lets through consumes it (the sidecar removes it). */
  once: z.boolean().default(false),
});

export const egressRulesSchema = z.strictObject({
  allow: z.array(egressRuleSchema),
  deny: z.array(nonEmpty),
});

export const sidecarSecretsSchema = z.strictObject({
  credentials: z.record(nonEmpty, nonEmpty),
  git: z.record(
    nonEmpty,
    z.strictObject({ identityKey: nonEmpty.optional(), token: nonEmpty.optional() }),
  ),
});

export const sidecarConfigSchema = z.strictObject({
  identity: nonEmpty,
  socket_dir: nonEmpty,
  state_dir: nonEmpty,
  egress: egressRulesSchema,
  dlp: z.enum(["block", "warn", "off"]),
  credentials: z.array(
    z.strictObject({
      name: nonEmpty,
      path: nonEmpty,
      upstream: nonEmpty,
      role: z.string().nullable(),
      inject: nonEmpty,
    }),
  ),
  git: z.array(
    z.strictObject({
      name: nonEmpty,
      upstream: nonEmpty,
      push: z.strictObject({
        branches: z.array(nonEmpty),
        force: z.boolean(),
        delete: z.boolean(),
        max_size_bytes: z.number().int().nonnegative(),
      }),
      known_hosts: z.string(),
    }),
  ),
  upstream_ca: z.array(z.string()),
  /** Run the supervise gate (the agent asks for more over MCP); false in configs from before it. */
  supervise: z.boolean().default(false),
});

export { HEALTH_STATES } from "./health-states.js";

export const healthReportSchema = z.strictObject({
  /** True once the secrets are held and the gates serve; false while they refuse everything. */
  ok: z.boolean(),
  state: z.enum(HEALTH_STATES),
  identity: nonEmpty,
  gates: z.array(z.string()),
  /** `once` rules spent since the sidecar started (each removed from the rules and policy.json). */
  once_consumed: z.number().int().nonnegative().default(0),
  uptime_ms: z.number(),
});

export type SidecarSecrets = z.infer<typeof sidecarSecretsSchema>;
export type SidecarConfigDocument = z.infer<typeof sidecarConfigSchema>;
export type HealthReport = z.infer<typeof healthReportSchema>;
export type HealthState = HealthReport["state"];

/** The issues of a refused document in one line: where, and what was wrong. */
export function contractIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top)"}: ${issue.message}`)
    .join("; ");
}

/** Parses `value` with `schema`, or throws an Error naming `what` and the issues. */
export function parseContract<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`${what} is malformed: ${contractIssues(result.error)}`);
  return result.data;
}

/**
 * The git gate's push branches, replaced live per entry (PUT /git/branches) when the operator
 * approves a push-branch request. Entries not named keep theirs; an unknown entry refuses all.
 */
export const gitBranchesSchema = z.strictObject({
  branches: z.record(nonEmpty, z.array(nonEmpty).min(1)),
});

export type GitBranches = z.infer<typeof gitBranchesSchema>;

const policyChangeSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("allow"),
    host: nonEmpty,
    ports: z.array(z.number().int().min(1).max(65535)).optional(),
    methods: z.array(nonEmpty).optional(),
    paths: z.array(z.string()).optional(),
    tls: z.enum(["intercept", "passthrough"]),
    internal: z.boolean().optional(),
    source: z.enum(["operator", "request"]).optional(),
    request_id: nonEmpty.optional(),
    added_by: nonEmpty.optional(),
    added_at: z.iso.datetime().optional(),
    expires_at: z.iso.datetime().optional(),
    once: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal("deny"), host: nonEmpty }),
  z.strictObject({ kind: z.literal("remove"), host: nonEmpty }),
]);

/**
 * One change to a running bottle's egress rules (POST /policy/edit), applied by the sidecar to
 * the rules in force when it arrives and saved by it (core/policy/policy-edit.ts).
 */
export const policyEditSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("change"), change: policyChangeSchema }),
  z.strictObject({ op: z.literal("grant"), rule: egressRuleSchema }),
  z.strictObject({ op: z.literal("remove-request"), request_id: nonEmpty }),
  z.strictObject({ op: z.literal("replace"), rules: egressRulesSchema }),
]);
