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

const SCANNER = new TriggerScanner(
  SECRET_PATTERNS.flatMap((pattern, owner): Trigger[] =>
    (pattern.triggers ?? []).map((literal) => ({
      literal,
      caseless: pattern.caseless === true,
      owner,
    })),
  ),
);

/** Places tried per detector; past them, the detector reads the whole text instead. */
const MAX_HITS = 4096;

/**
 * The kind of the first detector (in SECRET_PATTERNS' order) that finds a match in `text`, or
 * null. `loose`: `text` is a decoded layer (see detector.ts).
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
  return null;
}
