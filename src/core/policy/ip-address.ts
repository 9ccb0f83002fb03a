/**
 * IP addresses in egress requests, as PURE functions: reading the notations a resolver accepts for
 * an IPv4 address, and telling internal addresses from public ones.
 *
 * - `readIpLiteral` reads a host as an IP address the way inet_aton and URL parsers do: dotted
 *   forms of 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), so `2130706433`,
 *   `0x7f000001`, `0177.0.0.1` and `127.1` are all 127.0.0.1. IPv6 literals are canonicalised and
 *   an IPv4-mapped or IPv4-compatible IPv6 address (`::ffff:127.0.0.1`) is read as the IPv4
 *   address it carries. Anything else (a host name) is null.
 * - `internalRange` names the internal range an address falls in (loopback, private, link-local,
 *   cloud metadata, carrier-grade NAT, unspecified, multicast, and their IPv6 forms), or null for
 *   a public address. An unparsable address counts as internal: the check fails closed.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

export interface IpLiteral {
  family: 4 | 6;
  /** Canonical text: dotted-quad, or the compressed IPv6 form. */
  address: string;
}

const V4_PART = /^(0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$/;

function partValue(part: string): number | null {
  if (!V4_PART.test(part)) return null;
  if (part.startsWith("0x")) return part === "0x" ? 0 : parseInt(part.slice(2), 16);
  if (part.length > 1 && part.startsWith("0")) return parseInt(part, 8);
  return Number(part);
}

/** The inet_aton reading of a dotted IPv4 notation, as a 32-bit number; null if it is not one. */
function inetAton(name: string): number | null {
  const parts = name.split(".");
  if (parts.length < 1 || parts.length > 4) return null;
  const values = parts.map(partValue);
  if (values.some((v) => v === null || !Number.isFinite(v))) return null;
  const nums = values as number[];
  const last = nums[nums.length - 1] ?? 0;
  const head = nums.slice(0, -1);
  if (head.some((v) => v > 255)) return null;
  const lastBits = 8 * (4 - head.length);
  if (last >= 2 ** lastBits) return null;
  let value = 0;
  for (const v of head) value = value * 256 + v;
  return value * 2 ** lastBits + last;
}

function dotted(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The 8 groups of an IPv6 address (valid per isIPv6), as numbers. */
function v6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined) {
    const n = inetAton(v4[1]) ?? 0;
    text = `${text.slice(0, -v4[1].length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [left = "", right] = text.split("::");
  const head = left === "" ? [] : left.split(":");
  const tail = right === undefined || right === "" ? [] : right.split(":");
  const fill = right === undefined ? 0 : 8 - head.length - tail.length;
  return [...head, ...Array<string>(fill).fill("0"), ...tail].map((g) => parseInt(g, 16));
}

function canonicalV6(groups: number[]): string {
  // Longest run of zero groups (at least 2) becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Reads `host` (lower-case, no brackets) as an IP literal, or null for a host name. */
export function readIpLiteral(host: string): IpLiteral | null {
  if (host.includes(":")) {
    if (!isIPv6(host) || host.includes("%")) return null;
    const groups = v6Groups(host);
    const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
    const compatible = groups.slice(0, 6).every((g) => g === 0) && (groups[6] ?? 0) !== 0;
    if (mapped || compatible) {
      return { family: 4, address: dotted((groups[6] ?? 0) * 65536 + (groups[7] ?? 0)) };
    }
    return { family: 6, address: canonicalV6(groups) };
  }
  if (!/^[0-9a-fx.]+$/.test(host) || !/^[0-9]/.test(host)) return null;
  const value = inetAton(host);
  return value === null ? null : { family: 4, address: dotted(value) };
}

const RANGES: [string, string, number, "ipv4" | "ipv6"][] = [
  ["unspecified", "0.0.0.0", 8, "ipv4"],
  ["private", "10.0.0.0", 8, "ipv4"],
  ["carrier-grade NAT", "100.64.0.0", 10, "ipv4"],
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["link-local (cloud metadata)", "169.254.0.0", 16, "ipv4"],
  ["private", "172.16.0.0", 12, "ipv4"],
  ["IETF protocol assignments", "192.0.0.0", 24, "ipv4"],
  ["private", "192.168.0.0", 16, "ipv4"],
  ["benchmarking", "198.18.0.0", 15, "ipv4"],
  ["multicast", "224.0.0.0", 4, "ipv4"],
  ["reserved", "240.0.0.0", 4, "ipv4"],
  ["unspecified", "::", 128, "ipv6"],
  ["loopback", "::1", 128, "ipv6"],
  ["NAT64", "64:ff9b::", 96, "ipv6"],
  ["NAT64 local use", "64:ff9b:1::", 48, "ipv6"],
  ["unique local (private)", "fc00::", 7, "ipv6"],
  ["link-local", "fe80::", 10, "ipv6"],
  ["site-local", "fec0::", 10, "ipv6"],
  ["multicast", "ff00::", 8, "ipv6"],
  ["cloud metadata", "fd00:ec2::", 32, "ipv6"],
];

/** One BlockList per range, so the range's name can be reported. Built per call site, not global. */
export class InternalRanges {
  private readonly lists = RANGES.map(([name, network, prefix, type]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { name, list, type };
  });

  /** The name of the internal range holding `address`, or null for a public address. */
  rangeOf(address: string): string | null {
    const literal = readIpLiteral(address.toLowerCase());
    if (literal === null) return "unparsable address";
    const type = literal.family === 4 ? "ipv4" : "ipv6";
    if (type === "ipv4" && !isIPv4(literal.address)) return "unparsable address";
    for (const { name, list, type: rangeType } of this.lists) {
      if (rangeType === type && list.check(literal.address, type)) return name;
    }
    return null;
  }
}
