/**
 * The address an allowed request is dialled at: resolved once, checked, and pinned, so that a
 * name cannot pass the check with one answer and be dialled at another (DNS rebinding).
 *
 * `pickAddress` is the PURE check: from the resolver's answers for a host name, the first address
 * that is public, or internal when the matched rule says `internal: true`. When every answer is
 * internal and the rule does not allow it, the request is denied (`internal-address`), naming the
 * range, never dialling. `resolveUpstream` does the lookup (injectable for tests) and the check.
 * An IP literal was already judged by the policy and is dialled as is.
 */
import dns from "node:dns/promises";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import type { InternalRanges } from "./ip-address.js";
import { readIpLiteral } from "./ip-address.js";

/** Resolves a host name to its addresses (IPv4 and IPv6), as `dns.lookup` with `all: true`. */
export type Resolver = (host: string) => Promise<string[]>;

export type PickedAddress =
  { ok: true; address: string } | { ok: false; rule: string; reason: string };

export const systemResolver: Resolver = async (host) => {
  const answers = await dns.lookup(host, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};

export function pickAddress(
  host: string,
  addresses: readonly string[],
  rule: Pick<PlanEgressRule, "internal"> | undefined,
  ranges: InternalRanges,
): PickedAddress {
  if (addresses.length === 0) {
    return { ok: false, rule: "unresolvable", reason: `${host} has no address` };
  }
  let refused: { address: string; range: string } | null = null;
  for (const address of addresses) {
    const range = ranges.rangeOf(address);
    if (range === null || rule?.internal === true) {
      // Dial the canonical form: an IPv4-mapped IPv6 answer is dialled as IPv4.
      return { ok: true, address: readIpLiteral(address.toLowerCase())?.address ?? address };
    }
    refused ??= { address, range };
  }
  const first = refused ?? { address: addresses[0] ?? "", range: "internal" };
  return {
    ok: false,
    rule: "internal-address",
    reason: `${host} resolves to ${first.address}, an internal address (${first.range}); names that resolve inside are refused unless the operator's rule for them says internal`,
  };
}

/** Resolves and checks `host`; an IP literal is returned as is. Never throws. */
export async function resolveUpstream(
  host: string,
  rule: Pick<PlanEgressRule, "internal"> | undefined,
  resolver: Resolver,
  ranges: InternalRanges,
): Promise<PickedAddress> {
  const literal = readIpLiteral(host);
  if (literal !== null) return { ok: true, address: literal.address };
  let addresses: string[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "lookup failed";
    return { ok: false, rule: "unresolvable", reason: `${host} could not be resolved (${code})` };
  }
  return pickAddress(host, addresses, rule, ranges);
}
