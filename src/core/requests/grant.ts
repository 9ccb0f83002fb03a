/**
 * PURE: what an approval grants. The operator picks a scope (`once`: the next matching request or
 * tunnel only; `for`: until a time; `bottle`: kept across stop and resume, the default) and may
 * narrow the request's methods and paths; never widen them. The result is the decision (written to
 * `<id>.decision.json` and passed back to the agent) and, for an egress request, the rule the
 * bottle gets, carrying its provenance (which request, who, when, until when).
 *
 * Called by the operator layer (src/operator/approve.ts), which shows the grant and its risk flags
 * before anything is written.
 */
import { BottleError } from "../errors.js";
import type { PlanEgressRule as EgressRule } from "../plan/bottle-plan.js";
import { normalizeHost } from "../policy/domain-pattern.js";
import type { BottleRequest, Decision, DecisionScope, EgressSpec, RequestSpec } from "./request.js";

export interface GrantOptions {
  /** Default `bottle`. */
  scope?: DecisionScope;
  /** For scope `for`: how long the grant lasts, in milliseconds. */
  durationMs?: number;
  /** Narrow the methods to these (each must be one the request asked for, or it asked for any). */
  methods?: readonly string[];
  /** Narrow the paths to these prefixes (each within a prefix the request asked for, or any). */
  paths?: readonly string[];
  /** A note passed back to the agent with the decision. */
  note?: string;
  /**
   * Egress: let the host name resolve to an internal address (a service inside the operator's
   * network). Off by default; a risk flag says so when on.
   */
  internal?: boolean;
}

export interface Grant {
  decision: Decision;
  /** The egress rule the bottle gets; null for other kinds. */
  rule: EgressRule | null;
}

function refuseWider(what: string, asked: string): never {
  throw new BottleError(
    "usage",
    `The approval would grant ${what}, which the agent did not ask for.`,
    {
      hint: `An approval may narrow a request, never widen it: the request asked for ${asked}. Deny it and let the agent ask again for more.`,
    },
  );
}

function narrowMethods(
  asked: string[] | null,
  given: readonly string[] | undefined,
): string[] | null {
  if (given === undefined || given.length === 0) return asked;
  const methods = [...new Set(given.map((m) => m.trim().toUpperCase()).filter((m) => m !== ""))];
  if (methods.some((m) => !/^[A-Z]{1,20}$/.test(m))) {
    throw new BottleError("usage", `Methods must be HTTP method names, got ${given.join(",")}.`, {
      hint: "For example --methods GET,HEAD.",
    });
  }
  const extra = asked === null ? [] : methods.filter((m) => !asked.includes(m));
  if (extra.length > 0)
    refuseWider(`method ${extra.join(", ")}`, `methods ${(asked ?? []).join(", ")}`);
  return methods.sort();
}

function narrowPaths(
  asked: string[] | null,
  given: readonly string[] | undefined,
): string[] | null {
  if (given === undefined || given.length === 0) return asked;
  const paths = [...new Set(given.map((p) => p.trim()))];
  if (paths.some((p) => !p.startsWith("/"))) {
    throw new BottleError("usage", `Paths must start with "/", got ${given.join(",")}.`, {
      hint: "For example --paths /v1/,/health.",
    });
  }
  const extra = asked === null ? [] : paths.filter((p) => !asked.some((a) => p.startsWith(a)));
  if (extra.length > 0)
    refuseWider(`path ${extra.join(", ")}`, `paths ${(asked ?? []).join(", ")}`);
  return paths.sort();
}

/** The egress spec as granted: the request's, narrowed by the operator's methods and paths. */
export function grantedEgress(asked: EgressSpec, options: GrantOptions): EgressSpec {
  return {
    host: normalizeHost(asked.host),
    ports: asked.ports,
    methods: narrowMethods(asked.methods, options.methods),
    paths: narrowPaths(asked.paths, options.paths),
  };
}

/** What is granted for a request of any kind (only egress requests can be narrowed). */
export function grantedSpec(spec: RequestSpec, options: GrantOptions): RequestSpec {
  if (spec.kind === "egress")
    return { kind: "egress", egress: grantedEgress(spec.egress, options) };
  if (options.methods !== undefined || options.paths !== undefined) {
    throw new BottleError(
      "usage",
      `--methods and --paths narrow egress requests; this is a ${spec.kind} request.`,
    );
  }
  return spec;
}

/** When a grant of `options` made at `now` ends, or null when it does not. */
export function grantExpiry(options: GrantOptions, now: Date): string | null {
  const scope = options.scope ?? "bottle";
  if (scope !== "for") {
    if (options.durationMs !== undefined) {
      throw new BottleError("usage", "A duration goes with --for only.");
    }
    return null;
  }
  if (options.durationMs === undefined || options.durationMs <= 0) {
    throw new BottleError("usage", "--for needs a duration.", {
      hint: "For example --for 1h or --for 30m.",
    });
  }
  return new Date(now.getTime() + options.durationMs).toISOString();
}

/**
 * The egress rule an approved egress decision puts in force, with its provenance; `internal` as
 * the operator chose it (the decision does not carry it).
 */
export function ruleFromDecision(decision: Decision, internal = false): EgressRule | null {
  if (decision.status !== "approved" || decision.granted?.kind !== "egress") return null;
  const spec = decision.granted.egress;
  return {
    host: spec.host,
    ports: spec.ports ?? [443, 80],
    methods: spec.methods,
    paths: spec.paths,
    tls: "intercept",
    internal,
    source: "request",
    request_id: decision.request_id,
    added_by: decision.by,
    added_at: decision.decided_at,
    expires_at: decision.expires_at,
    once: decision.scope === "once",
  };
}

/** The approval of `request` (at the revision the operator was shown) with `options`. */
export function approve(
  request: BottleRequest,
  options: GrantOptions,
  by: string,
  now: Date,
): Grant {
  const decision: Decision = {
    request_id: request.id,
    revision: request.revision,
    status: "approved",
    scope: options.scope ?? "bottle",
    expires_at: grantExpiry(options, now),
    granted: grantedSpec(request.spec, options),
    note: options.note ?? null,
    decided_at: now.toISOString(),
    by,
  };
  if (options.internal === true && request.spec.kind !== "egress") {
    throw new BottleError("usage", "--internal applies to egress requests only.");
  }
  return { decision, rule: ruleFromDecision(decision, options.internal ?? false) };
}

/** The denial of `request`, with the reason passed back to the agent. */
export function deny(
  request: BottleRequest,
  reason: string | undefined,
  by: string,
  now: Date,
): Decision {
  return {
    request_id: request.id,
    revision: request.revision,
    status: "denied",
    scope: null,
    expires_at: null,
    granted: null,
    note: reason ?? null,
    decided_at: now.toISOString(),
    by,
  };
}

/**
 * The approve/show binding: an approval names the revision the operator was shown. When the
 * request changed since (a repeat merged a wider spec into it), the approval is refused
 * (`request_changed`), so nothing is granted that the operator did not see.
 */
export function checkShownRevision(request: BottleRequest, shownRevision: number): void {
  if (request.revision !== shownRevision) {
    throw new BottleError(
      "request_changed",
      `Request ${request.id} changed since it was shown (revision ${shownRevision}, now ${request.revision}): the agent asked again for more. Nothing was approved.`,
      { hint: "Look at it again and decide on what it asks now." },
    );
  }
}
