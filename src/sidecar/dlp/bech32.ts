/**
 * Bech32 and Bech32m (BIP-173, BIP-350) strings, PURE: a human-readable part, `1`, and data
 * ending in a 6-character BCH checksum. The checksum makes a random string pass about one time in
 * a billion.
 */

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32 = 1;
const BECH32M = 0x2bc830a3;

const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let check = 1;
  for (const value of values) {
    const top = check >>> 25;
    check = (((check & 0x1ffffff) << 5) ^ value) >>> 0;
    for (let i = 0; i < 5; i += 1) if ((top >>> i) & 1) check = (check ^ (GENERATOR[i] ?? 0)) >>> 0;
  }
  return check;
}

/** True when `text` is a Bech32 or Bech32m string (one case, checksum holds). */
export function isBech32(text: string): boolean {
  if (text.length > 90 || (text !== text.toLowerCase() && text !== text.toUpperCase())) {
    return false;
  }
  const lower = text.toLowerCase();
  const split = lower.lastIndexOf("1");
  if (split < 1 || lower.length - split - 1 < 6) return false;
  const hrp = lower.slice(0, split);
  const values: number[] = [];
  for (const char of hrp) values.push(char.charCodeAt(0) >> 5);
  values.push(0);
  for (const char of hrp) values.push(char.charCodeAt(0) & 31);
  for (const char of lower.slice(split + 1)) {
    const value = CHARSET.indexOf(char);
    if (value === -1) return false;
    values.push(value);
  }
  const sum = polymod(values);
  return sum === BECH32 || sum === BECH32M;
}
