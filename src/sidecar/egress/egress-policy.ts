/**
 * The egress decision: a PURE function from a bottle's policy and one outbound request to allow or
 * deny, with the rule that decided and a reason a model can read. No I/O, no state, never throws.
 *
 * Contract:
 * - The request host is normalised (lower-case, one trailing dot and IPv6 brackets removed). An IP
 *   literal in any notation a resolver accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`,
 *   `::ffff:127.0.0.1`) is read as the address it names (`decision.host` is that canonical form).
 *   Anything else must be a valid host name; otherwise the request is denied (`invalid-request`).
 * - Deny patterns win over allow rules (`deny:<pattern>`).
 * - An IP literal matches only a rule naming that same address. An internal address (loopback,
 *   private, link-local, metadata; see ip-address.ts) with no such rule is denied
 *   (`internal-address`). Host names are checked against internal addresses after resolution,
 *   by the proxy (upstream-address.ts), which needs the matched rule's `internal` flag.
 * - An allow rule (`allow:<host as written>`) matches when its host pattern matches, the port is
 *   in its `ports`, and, only when the request is visible (method/path given: plain HTTP, or a
 *   request inside an intercepted tunnel), the method is in `methods` (null = any) and the path
 *   starts with one of `paths` (null = any). A path with dot segments or encoded separators in any
 *   encoding never matches a rule that limits paths, and a method-override header or parameter
 *   must name an allowed method under a rule that limits methods (path-rules.ts). The query
 *   string is otherwise ignored.
 * - A rule past its `expires_at` matches nothing (the denial says it expired).
 * - Nothing else is allowed (`default-deny`).
 * - A `once` rule allows like any other here. It is spent by the first request or pass-through
 *   tunnel that goes out under it, after every content check passed (the gate calls its `spend`;
 *   the sidecar removes it with withoutRule and saves the rules): a refused request leaves it,
 *   and the CONNECT of an intercepted tunnel is not that unit (the first request inside it is).
 */
import { isIPv6 } from "node:net";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import { hostMatches, parseHostPattern } from "../../core/policy/domain-pattern.js";
import type { HostPattern } from "../../core/policy/domain-pattern.js";
import { InternalRanges, readIpLiteral } from "./ip-address.js";
import { pathProblem } from "./path-rules.js";

export interface EgressPolicy {
  allow: PlanEgressRule[];
  deny: string[];
}

/** One outbound request. `method` and `path` are given only when the request is visible. */
export interface EgressRequest {
  host: string;
  port: number;
  method?: string;
  path?: string;
  /** Methods the request names through override headers or `_method=` (path-rules.ts). */
  overrides?: string[];
}

export interface EgressDecision {
  verdict: "allow" | "deny";
  /** The host as judged (normalised; an IP literal in canonical form). */
  host?: string;
  /** The allow rule that matched (an allow only). */
  match?: PlanEgressRule;
  /** `allow:<host>`, `deny:<pattern>`, `default-deny` or `invalid-request`. */
  rule: string | null;
  /** One sentence for the agent (and the operator): what was decided and why. */
  reason: string;
}

const OPERATOR_CAN_ALLOW = "the operator can allow it";

/** Lower-case, strip one trailing dot, strip the brackets of an IPv6 literal. */
export function normalizeRequestHost(host: string): string {
  let name = host.toLowerCase();
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name;
}

/** A host for messages: short and printable, never a control character. */
export function displayHost(host: string): string {
  const shown = host.replace(/[^\x21-\x7e]/g, "?");
  const short = shown.length > 80 ? `${shown.slice(0, 80)}...` : shown;
  return isIPv6(short) ? `[${short}]` : short;
}

/** Null when `name` (normalised, not an IP literal) is a host name we can judge. */
function hostProblem(name: string): string | null {
  if (name === "") return "is empty";
  if (name.includes(":")) return "is not a valid IPv6 address";
  if (/^[0-9.]+$/.test(name) || /^0x/.test(name)) return "is not a valid IPv4 address";
  const parsed = parseHostPattern(name);
  if (!parsed.ok || parsed.pattern.kind !== "exact" || parsed.pattern.host !== name) {
    return "is not a valid host name";
  }
  return null;
}

/** True when an IP pattern names the same address as the canonical `address`. */
function namesAddress(pattern: HostPattern, address: string): boolean {
  return pattern.kind === "ip" && readIpLiteral(pattern.address)?.address === address;
}

function patternOf(text: string): HostPattern | null {
  const parsed = parseHostPattern(text);
  return parsed.ok ? parsed.pattern : null;
}

function withoutQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

/** The first overriding method the rule does not allow, or null. */
function overridden(request: EgressRequest, methods: readonly string[]): string | null {
  return (request.overrides ?? []).find((method) => !methods.includes(method)) ?? null;
}

function deny(rule: string, reason: string): EgressDecision {
  return { verdict: "deny", rule, reason };
}

/** True when `rule` has an expiry at or before `now`. */
export function ruleExpired(rule: Pick<PlanEgressRule, "expires_at">, now: Date): boolean {
  return rule.expires_at !== null && Date.parse(rule.expires_at) <= now.getTime();
}

function decideUnsafe(
  policy: EgressPolicy,
  request: EgressRequest,
  ranges: InternalRanges,
  now: Date,
): EgressDecision {
  const written = normalizeRequestHost(request.host);
  const literal = readIpLiteral(written);
  const host = literal === null ? written : literal.address;
  const shown = displayHost(host);
  if (literal === null) {
    const problem = hostProblem(host);
    if (problem !== null) {
      return deny("invalid-request", `the host "${shown}" ${problem}, so the request was denied`);
    }
  }

  const matches = (pattern: HostPattern): boolean =>
    literal === null ? hostMatches(pattern, host) : namesAddress(pattern, host);

  for (const text of policy.deny) {
    const pattern = patternOf(text);
    if (pattern !== null && matches(pattern)) {
      return deny(
        `deny:${text}`,
        `host ${shown} is on the bottle's deny list (${text}); only the operator can change that`,
      );
    }
  }

  if (literal !== null) {
    const range = ranges.rangeOf(host);
    const named = policy.allow.some((rule) => {
      const pattern = patternOf(rule.host);
      return pattern !== null && namesAddress(pattern, host);
    });
    if (range !== null && !named) {
      return deny(
        "internal-address",
        `${shown} is an internal address (${range}); internal addresses are refused unless the operator allows that exact address`,
      );
    }
  }

  const port = request.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return deny("invalid-request", `port ${port} is not a valid TCP port`);
  }

  const method = request.method === undefined ? undefined : request.method.toUpperCase();
  const path = request.path === undefined ? undefined : withoutQuery(request.path);
  let closest: string | null = null;

  for (const rule of policy.allow) {
    const pattern = patternOf(rule.host);
    if (pattern === null || !matches(pattern)) continue;
    let miss: string | null = null;
    if (ruleExpired(rule, now)) {
      miss = `the bottle's rule for ${rule.host} expired at ${rule.expires_at ?? ""}`;
    } else if (!rule.ports.includes(port)) {
      miss = `port ${port} of ${shown} is not allowed (the bottle allows port ${rule.ports.join(", ")} for it)`;
    } else if (method !== undefined && rule.methods !== null && !rule.methods.includes(method)) {
      miss = `method ${method} to ${shown} is not allowed (the bottle allows ${rule.methods.join(", ")})`;
    } else if (rule.methods !== null && overridden(request, rule.methods) !== null) {
      const named = overridden(request, rule.methods) ?? "";
      // Named only when it reads as a method: the value is the agent's, and may carry data.
      const which = /^[A-Z]{1,12}$/.test(named) ? `method ${named}` : "another method";
      miss = `the request asks for ${which} through a method-override header or _method parameter, and the bottle allows only ${rule.methods.join(", ")} to ${shown}; send the method itself`;
    } else if (path !== undefined && rule.paths !== null) {
      const paths = rule.paths;
      const problem = pathProblem(path);
      if (problem !== null) {
        miss = `the path on ${shown} ${problem}, which the upstream may read differently from the bottle's path rule (${paths.join(", ")}); send the path in plain normal form`;
      } else if (!paths.some((prefix) => path.startsWith(prefix))) {
        miss = `path ${path} on ${shown} is not allowed (the bottle allows paths starting with ${paths.join(", ")})`;
      }
    }
    if (miss === null) {
      return {
        verdict: "allow",
        host,
        match: rule,
        rule: `allow:${rule.host}`,
        reason: `host ${shown} is allowed by the bottle's rule for ${rule.host}`,
      };
    }
    closest ??= miss;
  }

  if (closest !== null) return deny("default-deny", `${closest}; ${OPERATOR_CAN_ALLOW}`);
  return deny(
    "default-deny",
    `host ${shown} is not in the bottle's allow list; ${OPERATOR_CAN_ALLOW}`,
  );
}

/**
 * Decides one request. Never throws: any failure to evaluate is a deny. `ranges` may be passed to
 * reuse its address lists across calls.
 */
export function decideEgress(
  policy: EgressPolicy,
  request: EgressRequest,
  ranges: InternalRanges = new InternalRanges(),
  now: Date = new Date(),
): EgressDecision {
  try {
    const decision = decideUnsafe(policy, request, ranges, now);
    if (decision.host !== undefined) return decision;
    const written = normalizeRequestHost(request.host);
    return { ...decision, host: readIpLiteral(written)?.address ?? written };
  } catch {
    return deny("policy-error", "policy error: the bottle's policy could not be evaluated");
  }
}

/** The policy without `rule` (the same object, or an equal one); the input is not modified. */
export function withoutRule(policy: EgressPolicy, rule: PlanEgressRule): EgressPolicy {
  const key = JSON.stringify(rule);
  const index = policy.allow.findIndex((r) => r === rule || JSON.stringify(r) === key);
  if (index === -1) return policy;
  return { allow: policy.allow.filter((_, i) => i !== index), deny: policy.deny };
}
