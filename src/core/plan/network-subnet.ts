/**
 * The subnet of a bottle's own network. Docker's default address pools hold about 31 bridge
 * networks for a whole engine (each a /16 or /20), and every bottle has one: the 32nd bottle
 * could not start. A bottle's network holds its sidecar and little else, so it gets a /27 (30
 * addresses) from one range of the project's: 2048 bottles in the default 10.213.0.0/16.
 * The range can be set with BOT_BOTTLE_SUBNET_POOL (an IPv4 CIDR, /8 to /26) where it would clash
 * with a network of the operator's. Pure: the launch tries candidates in turn until the engine
 * takes one (a subnet another network holds is refused by the engine).
 */
import { BottleError } from "../errors.js";

export const DEFAULT_SUBNET_POOL = "10.213.0.0/16";
export const BOTTLE_SUBNET_PREFIX = 27;

export interface BottleSubnet {
  subnet: string;
  gateway: string;
}

interface Pool {
  base: number;
  slots: number;
}

function ipv4ToInt(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => String(Math.floor(value / 2 ** shift) % 256)).join(".");
}

/** Parses the pool range; a usage error naming the variable when it is not an IPv4 CIDR. */
export function parseSubnetPool(text: string): Pool {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const address = match?.[1] === undefined ? undefined : ipv4ToInt(match[1]);
  const prefix = Number(match?.[2]);
  if (address === undefined || !(prefix >= 8 && prefix <= BOTTLE_SUBNET_PREFIX - 1)) {
    throw new BottleError(
      "usage",
      `BOT_BOTTLE_SUBNET_POOL is ${JSON.stringify(text)}, not an IPv4 range from /8 to /${BOTTLE_SUBNET_PREFIX - 1}.`,
      {
        hint: `Set it to a private range no network of yours uses, such as ${DEFAULT_SUBNET_POOL}.`,
      },
    );
  }
  const size = 2 ** (32 - prefix);
  return {
    base: address - (address % size),
    slots: 2 ** (BOTTLE_SUBNET_PREFIX - prefix),
  };
}

/** A stable number from the identity (FNV-1a): where a bottle's candidates begin. */
function startSlot(identity: string, slots: number): number {
  let hash = 0x811c9dc5;
  for (const char of identity) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % slots;
}

/** The `attempt`-th candidate subnet of a bottle (0 first); every slot once per pool size. */
export function bottleSubnet(identity: string, attempt: number, poolText: string): BottleSubnet {
  const pool = parseSubnetPool(poolText);
  const slot = (startSlot(identity, pool.slots) + attempt) % pool.slots;
  const network = pool.base + slot * 2 ** (32 - BOTTLE_SUBNET_PREFIX);
  return {
    subnet: `${intToIpv4(network)}/${String(BOTTLE_SUBNET_PREFIX)}`,
    gateway: intToIpv4(network + 1),
  };
}

/** How many candidates a launch tries before giving up (the range is full or clashes). */
export const SUBNET_ATTEMPTS = 64;
