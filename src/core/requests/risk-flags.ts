/**
 * PURE: the risks of granting an egress request, computed by the project from what would be
 * granted and the bottle's own configuration; never from the agent's stated reason, which is
 * shown to the operator as the agent's words and nothing more.
 *
 * Called by the operator layer before an approval is shown (CLI and dashboard alike), with the
 * spec as it would be granted (after the operator narrowed it), so narrowing that removes a risk
 * removes its flag.
 */
import { IMAGE_RISK_CODES } from "../image/image-risk.js";
import { branchPatternRegex } from "../policy/branch-pattern.js";
import { BUILTIN_DENY } from "../policy/builtin-deny.js";
import { hostMatches, normalizeHost, parseHostPattern } from "../policy/domain-pattern.js";
import type { HostPattern } from "../policy/domain-pattern.js";
import { InternalRanges, readIpLiteral } from "../policy/ip-address.js";
import type { EgressRules } from "../policy/policy-change.js";
import type { EgressSpec } from "./request.js";

export const RISK_CODES = [
  "credential-host",
  "wildcard",
  "internal-address",
  "write-on-read-only",
  "exfil-domain",
  "unusual-port",
  "default-branch",
  // Image changes (core/image/image-risk.ts):
  ...IMAGE_RISK_CODES,
] as const;
export type RiskCode = (typeof RISK_CODES)[number];

export interface RiskFlag {
  code: RiskCode;
  /** One sentence for the operator: what the grant would let the agent do. */
  text: string;
}

export interface RiskContext {
  /** The rules in force before the grant. */
  rules: EgressRules;
  /**
   * Hosts the bottle's gates send a real credential to: the upstreams of its credential routes
   * and of its git entries (see credentialHosts).
   */
  credentialHosts: readonly string[];
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const WEB_PORTS = new Set([80, 443]);
/** Names that resolve inside a network by convention (RFC 6761/6762, cloud metadata names). */
const INTERNAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa|intranet|lan)$/;

/** The host names of a bottle's credential routes and git entries (upstream URLs as written). */
export function credentialHosts(
  credentials: readonly { upstream: string }[],
  git: readonly { upstream: string }[],
): string[] {
  const hosts = new Set<string>();
  for (const { upstream } of credentials) {
    try {
      hosts.add(normalizeHost(new URL(upstream).hostname));
    } catch {
      // An upstream that is not a URL reaches no host through this route.
    }
  }
  for (const { upstream } of git) {
    const host = /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+)/i.exec(upstream)?.[1];
    if (host !== undefined) hosts.add(normalizeHost(host));
  }
  return [...hosts].sort();
}

/** Whether `pattern` (the granted host) covers `host`, or `host` covers the pattern's names. */
function overlaps(pattern: HostPattern, granted: string, host: string): boolean {
  if (hostMatches(pattern, host)) return true;
  const other = parseHostPattern(host);
  if (!other.ok) return false;
  // A grant of `api.example.com` overlaps a rule for `*.example.com`.
  return hostMatches(other.pattern, granted);
}

function grantedPattern(spec: EgressSpec): HostPattern | null {
  const parsed = parseHostPattern(spec.host);
  return parsed.ok ? parsed.pattern : null;
}

function internalFlag(spec: EgressSpec, host: string): RiskFlag | null {
  const literal = readIpLiteral(host.replace(/^\[|\]$/g, ""));
  if (literal !== null) {
    const range = new InternalRanges().rangeOf(literal.address);
    if (range === null) return null;
    return {
      code: "internal-address",
      text: `${spec.host} is an internal address (${range}): the agent would reach a machine inside your network`,
    };
  }
  if (INTERNAL_NAME.test(host.replace(/^\*\./, ""))) {
    return {
      code: "internal-address",
      text: `${spec.host} is a name for machines inside a network`,
    };
  }
  return null;
}

function writeFlag(spec: EgressSpec, pattern: HostPattern, context: RiskContext): RiskFlag | null {
  const host = normalizeHost(spec.host);
  const existing = context.rules.allow.filter((rule) => overlaps(pattern, host, rule.host));
  if (existing.length === 0) return null;
  const readOnly = existing.every(
    (rule) => rule.methods !== null && rule.methods.every((m) => READ_METHODS.has(m.toUpperCase())),
  );
  if (!readOnly) return null;
  const writes =
    spec.methods === null
      ? ["any method"]
      : spec.methods.filter((m) => !READ_METHODS.has(m.toUpperCase()));
  if (writes.length === 0) return null;
  return {
    code: "write-on-read-only",
    text: `${spec.host} is read-only in this bottle now; the grant adds ${writes.join(", ")}: the agent could send data there`,
  };
}

function exfilFlag(spec: EgressSpec, pattern: HostPattern, host: string): RiskFlag | null {
  const bare = host.replace(/^\*\./, "");
  const named = BUILTIN_DENY.filter((entry) => !entry.startsWith("*.")).find(
    (apex) => bare === apex || bare.endsWith(`.${apex}`) || hostMatches(pattern, apex),
  );
  if (named === undefined) return null;
  return {
    code: "exfil-domain",
    text: `${spec.host} is ${named}, a known paste, file-drop or request-capture service: a common way to send data out`,
  };
}

/**
 * The risk flags of granting `spec` (as it would be granted) in a bottle described by `context`;
 * `internal`: the rule would let the name resolve to an internal address.
 */
export function egressRiskFlags(
  spec: EgressSpec,
  context: RiskContext,
  internal = false,
): RiskFlag[] {
  const host = normalizeHost(spec.host);
  const pattern = grantedPattern(spec);
  const flags: RiskFlag[] = [];
  const credential =
    pattern === null
      ? undefined
      : context.credentialHosts.find((h) => hostMatches(pattern, h) || h === host);
  if (credential !== undefined) {
    flags.push({
      code: "credential-host",
      text: `the bottle sends a real credential to ${credential}: direct egress there lets the agent use it under a key of its own choosing, or send data beside it`,
    });
  }
  if (host.startsWith("*.")) {
    flags.push({
      code: "wildcard",
      text: `${spec.host} is a wildcard: every name under ${host.slice(2)}, including ones not yet made`,
    });
  }
  const inside =
    internalFlag(spec, host) ??
    (internal
      ? {
          code: "internal-address" as const,
          text: `${spec.host} may resolve to an internal address (--internal): the agent would reach a machine inside your network`,
        }
      : null);
  if (inside !== null) flags.push(inside);
  if (pattern !== null) {
    const write = writeFlag(spec, pattern, context);
    if (write !== null) flags.push(write);
    const exfil = exfilFlag(spec, pattern, host);
    if (exfil !== null) flags.push(exfil);
  }
  const odd = (spec.ports ?? []).filter((p) => !WEB_PORTS.has(p));
  if (odd.length > 0) {
    flags.push({
      code: "unusual-port",
      text: `port ${odd.join(", ")}: not a web port (80, 443); another protocol may run there`,
    });
  }
  return flags;
}

/** Branch names that usually hold the reviewed history: a pattern covering one is flagged. */
const DEFAULT_BRANCHES = ["main", "master", "trunk", "develop", "production", "release"];

/** The risk flags of letting the agent push to branches matching `pattern` (git gate syntax). */
export function pushRiskFlags(pattern: string): RiskFlag[] {
  const flags: RiskFlag[] = [];
  const covered = DEFAULT_BRANCHES.filter((name) =>
    branchPatternRegex(pattern).test(`refs/heads/${name}`),
  );
  if (covered.length > 0) {
    flags.push({
      code: "default-branch",
      text: `${pattern} covers ${covered.join(", ")}: the agent could push to a branch that usually holds reviewed work`,
    });
  }
  if (pattern.includes("*") && !/[^*/]/.test(pattern.split("/")[0] ?? "")) {
    flags.push({
      code: "wildcard",
      text: `${pattern} starts with a wildcard: branches of any name`,
    });
  }
  return flags;
}
