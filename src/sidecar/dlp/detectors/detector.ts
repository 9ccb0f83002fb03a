/**
 * The building blocks of the built-in detectors, PURE: a detector is a kind and a test over text,
 * with, where every match holds one, a prefix (a regular expression's source) that the index
 * (secret-patterns.ts) looks for in one pass for all detectors before trying any of them.
 */
import { classRuns } from "../char-runs.js";

export interface SecretPattern {
  kind: string;
  find(text: string): boolean;
  /** What every match holds (a regular expression's source, no groups), when there is such. */
  prefix?: string;
}

/** A detector finding `pattern`, where `check` (if any) holds for the match. */
export function regex(
  kind: string,
  pattern: RegExp,
  check?: (match: RegExpMatchArray) => boolean,
): SecretPattern {
  const global = new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`);
  return {
    kind,
    find: (text) => {
      global.lastIndex = 0;
      for (const match of text.matchAll(global)) {
        if (check === undefined || check(match)) return true;
      }
      return false;
    },
  };
}

/** A pattern whose every match holds `prefix` (tried only where one shows). */
export function prefixed(
  kind: string,
  prefix: RegExp,
  pattern: RegExp,
  check?: (match: RegExpMatchArray) => boolean,
): SecretPattern {
  return { ...regex(kind, pattern, check), prefix: prefix.source };
}

/**
 * Maximal runs of `member` characters, `min` to `max` long, that pass `check`: the same as a
 * regular expression of the class between look-arounds that exclude it, found without trying
 * every position (char-runs.ts).
 */
export function run(
  kind: string,
  member: Uint8Array,
  length: { min: number; max: number },
  check: (match: string) => boolean,
): SecretPattern {
  return {
    kind,
    find: (text) => {
      for (const [start, end] of classRuns(text, member, length.min)) {
        if (end - start <= length.max && check(text.slice(start, end))) return true;
      }
      return false;
    },
  };
}

/** A regular expression's source matching `word` in any case (`token` -> `[Tt][Oo][Kk][Ee][Nn]`). */
export function caseless(word: string): string {
  return word
    .split("")
    .map((c) =>
      c.toLowerCase() === c.toUpperCase()
        ? c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
        : `[${c.toUpperCase()}${c.toLowerCase()}]`,
    )
    .join("");
}

/** True when `text` holds an upper-case letter, a lower-case letter and a digit. */
export function mixedCase(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[0-9]/.test(text);
}
