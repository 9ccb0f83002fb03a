/**
 * Base58Check (Bitcoin addresses and WIF private keys), PURE: true when a string decodes and its
 * 4-byte double-SHA-256 checksum holds. Checking the sum is what keeps random words from being
 * taken for wallet addresses.
 */
import crypto from "node:crypto";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function decode(text: string): Buffer | null {
  let value = 0n;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit === -1) return null;
    value = value * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.unshift(Number(value % 256n));
    value /= 256n;
  }
  for (const char of text) {
    if (char !== "1") break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

export function isBase58Check(text: string): boolean {
  const bytes = decode(text);
  if (bytes === null || bytes.length < 5) return false;
  const body = bytes.subarray(0, -4);
  const sum = crypto
    .createHash("sha256")
    .update(crypto.createHash("sha256").update(body).digest())
    .digest();
  return sum.subarray(0, 4).equals(bytes.subarray(-4));
}
