/**
 * The built-in detectors, PURE: every detector of detectors/ in one list, and `firstSecret`, which
 * tries them over a text. Detectors with a prefix are tried only when their prefix shows: one
 * pass over the text finds which prefixes show, for all detectors at once.
 */
import { type SecretPattern } from "./detectors/detector.js";
import { FINANCIAL_PATTERNS } from "./detectors/financial.js";
import { GENERIC_PATTERNS } from "./detectors/generic-assignments.js";
import { KEY_PATTERNS } from "./detectors/keys.js";
import { PROVIDER_PATTERNS } from "./detectors/providers.js";

export type { SecretPattern } from "./detectors/detector.js";

/** In order of preference: a named service before a generic assignment of the same token. */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  ...PROVIDER_PATTERNS,
  ...KEY_PATTERNS,
  ...FINANCIAL_PATTERNS,
  ...GENERIC_PATTERNS,
];

/** The distinct prefixes, and each pattern's place among them (-1: none). */
const PREFIX_LIST = [...new Set(SECRET_PATTERNS.flatMap((pattern) => pattern.prefix ?? []))];
const PREFIX_OF = SECRET_PATTERNS.map((pattern) =>
  pattern.prefix === undefined ? -1 : PREFIX_LIST.indexOf(pattern.prefix),
);
/** Every prefix in one expression, each in its own group. */
const PREFIXES = new RegExp(PREFIX_LIST.map((prefix) => `(${prefix})`).join("|"), "g");

/** Which prefixes show in `text` (by place in PREFIX_LIST). */
function prefixesIn(text: string): boolean[] {
  const shown = PREFIX_LIST.map(() => false);
  let left = shown.length;
  PREFIXES.lastIndex = 0;
  for (let match = PREFIXES.exec(text); match !== null; match = PREFIXES.exec(text)) {
    for (let group = 1; group < match.length; group += 1) {
      if (match[group] !== undefined && !shown[group - 1]) {
        shown[group - 1] = true;
        left -= 1;
      }
    }
    if (left === 0) break;
    // Prefixes may overlap (`s.` inside `xs.atlasv1.`): look again from the next character.
    PREFIXES.lastIndex = match.index + 1;
  }
  return shown;
}

/** The kind of the first pattern (in SECRET_PATTERNS' order) found in `text`, or null. */
export function firstSecret(text: string): string | null {
  const shown = prefixesIn(text);
  for (const [place, pattern] of SECRET_PATTERNS.entries()) {
    const prefix = PREFIX_OF[place] ?? -1;
    if (prefix !== -1 && shown[prefix] !== true) continue;
    if (pattern.find(text)) return pattern.kind;
  }
  return null;
}
