/**
 * The built-in detectors, PURE: every detector of detectors/ in one list, and `firstSecret`, which
 * tries them over a text. One pass of a literal automaton (trigger-scan.ts) finds where every
 * trigger of every detector starts; a detector with triggers is then tried only there, and one
 * without (runs of digits, hex, base58) looks only at runs long enough to hold its match.
 */
import { type SecretPattern } from "./detectors/detector.js";
import { FINANCIAL_PATTERNS } from "./detectors/financial.js";
import { GENERIC_PATTERNS } from "./detectors/generic-assignments.js";
import { KEY_PATTERNS } from "./detectors/keys.js";
import { PROVIDER_PATTERNS } from "./detectors/providers.js";
import { SERVICE_PATTERNS } from "./detectors/services.js";
import { type Trigger, TriggerScanner } from "./trigger-scan.js";

export type { SecretPattern } from "./detectors/detector.js";

/** In order of preference: a named service before a generic assignment of the same token. */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  ...PROVIDER_PATTERNS,
  ...SERVICE_PATTERNS,
  ...KEY_PATTERNS,
  ...FINANCIAL_PATTERNS,
  ...GENERIC_PATTERNS,
];

/** Where the provider and service detectors end in SECRET_PATTERNS (they come first). */
const NAMED = PROVIDER_PATTERNS.length + SERVICE_PATTERNS.length;

/** Prefixes too short or too common to look for written backwards (`ipad`, `AAAE` in base64). */
const WEAK_BACKWARDS = new Set(["EAAA", "key-", "API-", "dapi", "sig="]);

/**
 * The distinctive, case-sensitive prefixes of named tokens (four characters or more), written
 * backwards: a token written backwards ends with one. Each with the detector it belongs to and
 * its length (where the token, read backwards, starts).
 */
const BACKWARDS: readonly { pattern: SecretPattern; length: number; literal: string }[] =
  SECRET_PATTERNS.slice(0, NAMED).flatMap((pattern) =>
    pattern.caseless === true || pattern.at === undefined
      ? []
      : (pattern.triggers ?? [])
          .filter((literal) => literal.length >= 4 && !WEAK_BACKWARDS.has(literal))
          .map((literal) => ({ pattern, length: literal.length, literal: reversed(literal) })),
  );

/** Owners of the backwards triggers in the scanner: after every detector's own. */
const BACKWARDS_FROM = SECRET_PATTERNS.length;

const SCANNER = new TriggerScanner([
  ...SECRET_PATTERNS.flatMap((pattern, owner): Trigger[] =>
    (pattern.triggers ?? []).map((literal) => ({
      literal,
      caseless: pattern.caseless === true,
      owner,
    })),
  ),
  ...BACKWARDS.map(({ literal }, at) => ({ literal, caseless: false, owner: BACKWARDS_FROM + at })),
]);

/** Places tried per detector; past them, the detector reads the whole text instead. */
const MAX_HITS = 4096;

/** How far before a backwards prefix a token written backwards is read. */
const BACKWARDS_REACH = 1024;
/** Backwards prefixes of one kind read one by one; past them, the whole text is read reversed. */
const MAX_BACKWARDS_HITS = 64;

/** `text` (from `start` to `end`) written the other way round. */
function reversed(text: string, start = 0, end = text.length): string {
  let out = "";
  for (let i = end - 1; i >= start; i -= 1) out += text.charAt(i);
  return out;
}

/**
 * The kind of the first detector (in SECRET_PATTERNS' order) that finds a match in `text`, or
 * null. `loose`: `text` is a decoded layer (see detector.ts). A named token written backwards
 * is found too: only where its prefix, backwards, shows, the text before it is reversed (once)
 * and the token's own detector tried on it.
 */
export function firstSecret(text: string, loose = false): string | null {
  const hits: (number[] | undefined)[] = [];
  SCANNER.scan(text, (owner, start) => {
    const list = hits[owner] ?? (hits[owner] = []);
    if (list.length <= MAX_HITS) list.push(start);
  });
  for (const [owner, pattern] of SECRET_PATTERNS.entries()) {
    if (pattern.triggers === undefined || pattern.at === undefined) {
      if (pattern.find(text, loose)) return pattern.kind;
      continue;
    }
    const places = hits[owner];
    if (places === undefined) continue;
    if (places.length > MAX_HITS) {
      if (pattern.find(text, loose)) return pattern.kind;
      continue;
    }
    for (const hit of places) if (pattern.at(text, hit, loose)) return pattern.kind;
  }
  return hits.length > BACKWARDS_FROM ? backwardsSecret(text, hits, loose) : null;
}

/** A named token written backwards, where `hits` found one of the backwards prefixes. */
function backwardsSecret(
  text: string,
  hits: (number[] | undefined)[],
  loose: boolean,
): string | null {
  let whole: string | undefined;
  for (const [at, { pattern, length }] of BACKWARDS.entries()) {
    const places = hits[BACKWARDS_FROM + at];
    if (places === undefined) continue;
    if (places.length > MAX_BACKWARDS_HITS) {
      whole ??= reversed(text);
      if (pattern.find(whole, loose)) return pattern.kind;
      continue;
    }
    for (const hit of places) {
      const end = hit + length;
      const back = reversed(text, Math.max(0, end - BACKWARDS_REACH), end);
      if (pattern.at?.(back, 0, loose) === true) return pattern.kind;
    }
  }
  return null;
}
