/**
 * BIP-39 seed phrases, PURE: 12, 15, 18, 21 or 24 words of the English wordlist whose last bits
 * are the SHA-256 checksum of the rest. Ordinary prose seldom holds 12 wordlist words in a row,
 * and such a run still passes the checksum only one time in 16 (12 words) to 256 (24 words).
 */
import crypto from "node:crypto";
import { BIP39_ENGLISH } from "./bip39-english.js";

/** Each word's 11-bit value (its place in the list). */
const VALUES: ReadonlyMap<string, number> = new Map(BIP39_ENGLISH.map((word, i) => [word, i]));

/** True when `values` (11-bit word values, 12 to 24 in steps of 3) carry a valid checksum. */
export function checksumHolds(values: readonly number[]): boolean {
  if (values.length < 12 || values.length > 24 || values.length % 3 !== 0) return false;
  const bits = values.map((v) => v.toString(2).padStart(11, "0")).join("");
  const checksumBits = values.length / 3;
  const entropyBits = bits.length - checksumBits;
  const entropy = Buffer.alloc(entropyBits / 8);
  for (let i = 0; i < entropy.length; i += 1) {
    entropy[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  }
  const hash = crypto.createHash("sha256").update(entropy).digest();
  const expected = (hash[0] ?? 0).toString(2).padStart(8, "0").slice(0, checksumBits);
  return bits.slice(entropyBits) === expected;
}

/**
 * True when `words` hold a run of wordlist words that is a seed phrase with its checksum: the
 * whole run, or the run less one word at either end (a label such as "seed" is a wordlist word).
 * Windows inside a longer run are not tried: with many of them, one would pass by chance.
 */
export function holdsSeedPhrase(words: readonly string[]): boolean {
  let values: number[] = [];
  const tryRun = (): boolean =>
    [values, values.slice(1), values.slice(0, -1), values.slice(1, -1)].some(checksumHolds);
  for (const word of words) {
    const value = VALUES.get(word);
    if (value !== undefined) {
      values.push(value);
      continue;
    }
    if (values.length >= 12 && tryRun()) return true;
    values = [];
  }
  return values.length >= 12 && tryRun();
}
