/**
 * The egress decision: a PURE function from a bottle's policy and one outbound request to allow or
 * deny, with the rule that decided and a reason a model can read. No I/O, no state, never throws.
 *
 * Contract:
 * - The request host is normalised (lower-case, one trailing dot and IPv6 brackets removed) and
 *   must then be a valid host name, a canonical IPv4 address or an IPv6 address. Anything else
 *   (empty, wildcards, `%` zone ids, numeric forms a resolver would read as an IP such as
 *   `2130706433`, `0x7f.1` or `010.0.0.1`) is denied with rule `invalid-request`.
 * - Deny patterns win over allow rules (`deny:<pattern>`).
 * - An allow rule (`allow:<host as written>`) matches when its host pattern matches, the port is
 *   in its `ports`, and, only when the request is visible (method/path given, so not a CONNECT
 *   tunnel), the method is in `methods` (null = any) and the path starts with one of `paths`
 *   (null = any). A path that is not in normal form (dot segments, encoded `/` or `\`) never
 *   matches a rule that limits paths. The query string is ignored for matching.
 * - Nothing else is allowed (`default-deny`).
 *
 * Until TLS interception lands, a CONNECT tunnel shows only host and port, so the method and path
 * limits of a rule cannot be checked inside it: a tunnel to a host is allowed when host and port
 * match.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import { hostMatches, parseHostPattern } from "../../core/policy/domain-pattern.js";
import type { HostPattern } from "../../core/policy/domain-pattern.js";

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
}

export interface EgressDecision {
  verdict: "allow" | "deny";
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

/** Forms that resolvers read as an IPv4 address (inet_aton): 1 to 4 decimal, octal or hex parts. */
function looksNumeric(name: string): boolean {
  const parts = name.split(".");
  return parts.length <= 4 && parts.every((part) => /^(0x[0-9a-f]*|[0-9]+)$/.test(part));
}

/** Null when `name` (normalised) is a host we can judge; otherwise what is wrong with it. */
function hostProblem(name: string): string | null {
  if (name === "") return "is empty";
  if (name.includes(":")) {
    return isIPv6(name) && !name.includes("%") ? null : "is not a valid IPv6 address";
  }
  if (looksNumeric(name)) return isIPv4(name) ? null : "is not a canonical IPv4 address";
  const parsed = parseHostPattern(name);
  if (!parsed.ok || parsed.pattern.kind !== "exact" || parsed.pattern.host !== name) {
    return "is not a valid host name";
  }
  return null;
}

function patternOf(text: string): HostPattern | null {
  const parsed = parseHostPattern(text);
  return parsed.ok ? parsed.pattern : null;
}

function withoutQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

/** Dot segments or encoded separators: a prefix check on such a path proves nothing. */
function isNormalPath(path: string): boolean {
  if (!path.startsWith("/") || path.includes("\\")) return false;
  if (/%(2f|5c)/i.test(path)) return false;
  return path.split("/").every((segment) => {
    const dots = segment.toLowerCase().replaceAll("%2e", ".");
    return dots !== "." && dots !== "..";
  });
}

function deny(rule: string, reason: string): EgressDecision {
  return { verdict: "deny", rule, reason };
}

function decideUnsafe(policy: EgressPolicy, request: EgressRequest): EgressDecision {
  const host = normalizeRequestHost(request.host);
  const shown = displayHost(host);
  const problem = hostProblem(host);
  if (problem !== null) {
    return deny("invalid-request", `the host "${shown}" ${problem}, so the request was denied`);
  }

  for (const text of policy.deny) {
    const pattern = patternOf(text);
    if (pattern !== null && hostMatches(pattern, host)) {
      return deny(
        `deny:${text}`,
        `host ${shown} is on the bottle's deny list (${text}); only the operator can change that`,
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
    if (pattern === null || !hostMatches(pattern, host)) continue;
    let miss: string | null = null;
    if (!rule.ports.includes(port)) {
      miss = `port ${port} of ${shown} is not allowed (the bottle allows port ${rule.ports.join(", ")} for it)`;
    } else if (method !== undefined && rule.methods !== null && !rule.methods.includes(method)) {
      miss = `method ${method} to ${shown} is not allowed (the bottle allows ${rule.methods.join(", ")})`;
    } else if (path !== undefined && rule.paths !== null) {
      const paths = rule.paths;
      if (!isNormalPath(path) || !paths.some((prefix) => path.startsWith(prefix))) {
        miss = `path ${path} on ${shown} is not allowed (the bottle allows paths starting with ${paths.join(", ")})`;
      }
    }
    if (miss === null) {
      return {
        verdict: "allow",
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

/** Decides one request. Never throws: any failure to evaluate is a deny. */
export function decideEgress(policy: EgressPolicy, request: EgressRequest): EgressDecision {
  try {
    return decideUnsafe(policy, request);
  } catch {
    return deny("policy-error", "policy error: the bottle's policy could not be evaluated");
  }
}
