/**
 * Host patterns used by egress rules: an exact name (`api.github.com`), a wildcard over the
 * subdomains of a name (`*.githubusercontent.com`), or an exact IP literal (`10.0.0.5`).
 *
 * A wildcard matches subdomains at any depth and never the apex: `*.example.com` matches
 * `a.example.com` and `a.b.example.com`, not `example.com`. Write both rules to allow both.
 *
 * Wildcards that would cover a whole top-level domain (`*`, `*.com`, `*.co.uk`) are refused:
 * they are an allow-everything rule in disguise.
 */

export type HostPattern =
  | { kind: "exact"; host: string }
  | { kind: "wildcard"; suffix: string }
  | { kind: "ip"; address: string };

export type PatternResult = { ok: true; pattern: HostPattern } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Second-level public suffixes common enough that `*.<suffix>` is TLD-wide in practice. */
const PUBLIC_SECOND_LEVEL = new Set([
  "co.uk",
  "org.uk",
  "ac.uk",
  "gov.uk",
  "com.au",
  "net.au",
  "org.au",
  "co.jp",
  "ne.jp",
  "or.jp",
  "com.br",
  "com.cn",
  "co.nz",
  "co.in",
  "co.za",
  "com.mx",
  "com.tr",
]);

export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split(".").every((label) => LABEL.test(label));
}

function isValidIpv4(text: string): boolean {
  return IPV4.test(text) && text.split(".").every((part) => Number(part) <= 255);
}

/** Parses and validates a host pattern as written in a manifest or a `policy allow` command. */
export function parseHostPattern(text: string): PatternResult {
  const raw = normalizeHost(text);
  if (raw === "") return { ok: false, reason: "is empty" };
  if (raw === "*") return { ok: false, reason: "`*` would allow every host; name the hosts" };
  if (/[/:@?#\s]/.test(raw) && !raw.startsWith("[")) {
    return { ok: false, reason: "must be a host name only (no scheme, port, path or user)" };
  }
  if (raw.startsWith("[") && raw.endsWith("]")) {
    return { ok: true, pattern: { kind: "ip", address: raw.slice(1, -1) } };
  }
  if (isValidIpv4(raw)) return { ok: true, pattern: { kind: "ip", address: raw } };
  if (raw.startsWith("*.")) {
    const suffix = raw.slice(2);
    if (suffix.includes("*")) return { ok: false, reason: "may hold only one leading `*.`" };
    if (!isValidName(suffix)) return { ok: false, reason: "is not a valid host name" };
    if (!suffix.includes(".") || PUBLIC_SECOND_LEVEL.has(suffix)) {
      return {
        ok: false,
        reason: `\`*.${suffix}\` covers a whole top-level domain; name a domain`,
      };
    }
    return { ok: true, pattern: { kind: "wildcard", suffix } };
  }
  if (raw.includes("*")) {
    return { ok: false, reason: "a wildcard is allowed only as a leading `*.` label" };
  }
  if (!isValidName(raw)) return { ok: false, reason: "is not a valid host name" };
  return { ok: true, pattern: { kind: "exact", host: raw } };
}

/** True when `host` (already normalised) is covered by `pattern`. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  const name = normalizeHost(host);
  switch (pattern.kind) {
    case "exact":
      return name === pattern.host;
    case "wildcard":
      return name.endsWith(`.${pattern.suffix}`);
    case "ip":
      return name === pattern.address || name === `[${pattern.address}]`;
  }
}
