/**
 * What the agent asks for (supervise): a request, filed by the sidecar's MCP gate, and the
 * operator's decision on it, written by the host (CLI or dashboard). Both are zod schemas, parsed
 * wherever a file is read, so a malformed file is refused whole.
 *
 * Each lives in its own file under `state/<identity>/requests/` with one writer: the sidecar writes
 * `<id>.json` (and merges repeats into it), the host writes `<id>.decision.json`. No file has two
 * writers, so neither side can lose the other's update.
 */
import { z } from "zod";

export const REQUEST_KINDS = ["egress", "push-branch", "image"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Longest reason kept; the rest is cut (the agent is told). */
export const REASON_MAX_CHARS = 500;
/** Most pending requests per bottle; past it, new ones are refused (repeats still merge). */
export const MAX_PENDING = 20;

const nonEmpty = z.string().min(1);

export const egressSpecSchema = z.strictObject({
  host: nonEmpty,
  /** null: the default ports (443, 80). */
  ports: z.array(z.number().int().min(1).max(65535)).nullable(),
  /** Upper-case methods, or null for any. */
  methods: z.array(nonEmpty).nullable(),
  /** Path prefixes, or null for any. */
  paths: z.array(z.string()).nullable(),
});

export const pushBranchSpecSchema = z.strictObject({
  /** A branch pattern as the git gate's `branches` take it (`feature/*`). */
  pattern: nonEmpty,
  /** The git entry it applies to, or null for every entry. */
  entry: z.string().nullable(),
});

/** An image change: Dockerfile instructions layered on the bottle's current image. */
export const imageSpecSchema = z.strictObject({
  /** The instructions (no FROM: the project writes it); validated when filed and when approved. */
  dockerfile: nonEmpty.max(64 * 1024),
  /** Hash of the bottle's recipe when the change was filed (the diff's "before"). */
  base_recipe_hash: z.string().regex(/^[0-9a-f]{64}$/),
});

export const requestSpecSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("egress"), egress: egressSpecSchema }),
  z.strictObject({ kind: z.literal("push-branch"), push_branch: pushBranchSpecSchema }),
  z.strictObject({ kind: z.literal("image"), image: imageSpecSchema }),
]);

export const requestSchema = z.strictObject({
  id: z.string().regex(/^r-[0-9a-f]{6,12}$/),
  identity: nonEmpty,
  spec: requestSpecSchema,
  reason: z.string().max(REASON_MAX_CHARS),
  /** Bumped whenever a merged repeat changes the spec: a decision names the revision it saw. */
  revision: z.number().int().min(1),
  hits: z.number().int().min(1),
  first_seen: z.iso.datetime(),
  last_seen: z.iso.datetime(),
});

export const DECISION_SCOPES = ["once", "for", "bottle"] as const;
export type DecisionScope = (typeof DECISION_SCOPES)[number];

export const decisionSchema = z.strictObject({
  request_id: z.string(),
  /** The request revision the operator was shown; an approval of an older one is void. */
  revision: z.number().int().min(1),
  status: z.enum(["approved", "denied"]),
  /** null for a denial. */
  scope: z.enum(DECISION_SCOPES).nullable(),
  /** For scope `for`: when the grant ends. */
  expires_at: z.iso.datetime().nullable(),
  /** What was granted (possibly narrowed by the operator); null for a denial. */
  granted: requestSpecSchema.nullable(),
  /** The operator's note or deny reason, passed back to the agent. */
  note: z.string().max(REASON_MAX_CHARS).nullable(),
  decided_at: z.iso.datetime(),
  /** `cli` or `dashboard`, and the operator's user name where known. */
  by: z.string(),
});

export type RequestSpec = z.infer<typeof requestSpecSchema>;
export type EgressSpec = z.infer<typeof egressSpecSchema>;
export type BottleRequest = z.infer<typeof requestSchema>;
export type Decision = z.infer<typeof decisionSchema>;

/** What the agent sees when it asks about a request (wait_for_decision, request listings). */
export type RequestStatus = "pending" | "approved" | "denied" | "expired";
