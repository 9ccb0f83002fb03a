/**
 * The building blocks of the built-in detectors, PURE. A detector is a kind and a test over text,
 * in one of two shapes:
 * - `prefixed`: every match starts with one of a few literal TRIGGERS (`ghp_`, `AKIA`). The index
 *   (secret-patterns.ts) finds every trigger of every detector in one pass over the text, and a
 *   detector is tried only where one of its own starts (`at`), never over the whole text.
 * - `run`: a maximal run of a character class (base58, hex, digits), found by skipping
 *   (char-runs.ts), then checked.
 * `find` is each detector alone over a whole text: the reference the index must agree with.
 *
 * LOOSE reading: in bytes decoded from an encoding (base64, base32, hex, compressed), what comes
 * before a token may be garbage of a misaligned reading (a letter or digit that would defeat a
 * word-boundary check). There, the characters before a trigger are not read (the match is tried
 * on the text from the trigger on), and a run up to 3 characters longer than a token may end
 * with one.
 */
import { someRun } from "../char-runs.js";

export interface SecretPattern {
  kind: string;
  /** True when `text` holds a match (the detector alone; `loose`: see above). */
  find(text: string, loose?: boolean): boolean;
  /** Literals one of which starts every match. */
  triggers?: readonly string[];
  /** Whether the triggers match in any case. */
  caseless?: boolean;
  /** True when a match starts at `hit`, where one of the triggers starts. */
  at?(text: string, hit: number, loose: boolean): boolean;
}

/** How far past its trigger a match is looked for (further while token characters go on). */
const REACH = 1024;
const TOKEN_CHAR = /[A-Za-z0-9+/=_.-]/;

/** Where a window starting near `hit` ends: REACH on, and to the end of the token there. */
function reachEnd(text: string, hit: number): number {
  let end = Math.min(text.length, hit + REACH);
  const limit = Math.min(text.length, end + REACH);
  while (end < limit && TOKEN_CHAR.test(text.charAt(end))) end += 1;
  return end;
}

/**
 * A word boundary before a weak trigger (`SK`, `key-`): not a letter or digit, or a JSON or C
 * escape (`\n`, `\t`) that stands for white space in the raw text of a JSON body.
 */
export const START = /(?:(?<![A-Za-z0-9])|(?<=\\[nrtbf]))/.source;

export interface PrefixedOptions {
  /** Triggers match in any case. */
  caseless?: boolean;
  /** Characters before the trigger a match (or its check) may start at: tried in a window. */
  lead?: number;
  /** The pattern reads nothing before its trigger that garbage could spoil: loose is as strict. */
  boundless?: boolean;
}

/**
 * A detector whose every match starts with one of `triggers` (or, with `lead`, holds one no more
 * than `lead` characters after its start), where `check` (if any) holds for the match.
 */
export function prefixed(
  kind: string,
  triggers: readonly string[],
  pattern: RegExp,
  check?: (match: RegExpMatchArray) => boolean,
  options: PrefixedOptions = {},
): SecretPattern {
  const flags = pattern.flags.replace(/[gy]/g, "");
  const global = new RegExp(pattern.source, `${flags}g`);
  const sticky = new RegExp(pattern.source, `${flags}y`);
  const lead = options.lead ?? 0;
  const anyIn = (text: string): boolean => {
    for (const match of text.matchAll(global)) {
      if (check === undefined || check(match)) return true;
    }
    return false;
  };
  const stickyAt = (text: string, at: number): boolean => {
    sticky.lastIndex = at;
    const match = sticky.exec(text);
    return match !== null && (check === undefined || check(match));
  };
  return {
    kind,
    triggers,
    caseless: options.caseless ?? false,
    find: (text, loose = false) => {
      if (!loose || lead > 0 || options.boundless === true) return anyIn(text);
      const lower = options.caseless === true ? text.toLowerCase() : text;
      for (const trigger of triggers) {
        const literal = options.caseless === true ? trigger.toLowerCase() : trigger;
        for (let hit = lower.indexOf(literal); hit !== -1; hit = lower.indexOf(literal, hit + 1)) {
          if (stickyAt(text.slice(hit, reachEnd(text, hit)), 0)) return true;
        }
      }
      return anyIn(text);
    },
    at: (text, hit, loose) => {
      if (lead > 0) return anyIn(text.slice(Math.max(0, hit - lead - 1), reachEnd(text, hit)));
      if (!loose || options.boundless === true) return stickyAt(text, hit);
      return stickyAt(text.slice(hit, reachEnd(text, hit)), 0);
    },
  };
}

/**
 * Maximal runs of `member` characters, `min` to `max` long, that pass `check` (read loose, a
 * longer run whose last `min`..`max` characters pass): the same as a regular expression of the
 * class between look-arounds that exclude it, found without trying every position.
 */
export function run(
  kind: string,
  member: Uint8Array,
  length: { min: number; max: number },
  check: (match: string) => boolean,
): SecretPattern {
  return {
    kind,
    find: (text, loose = false) =>
      someRun(text, member, length.min, (start, end) => {
        if (end - start <= length.max && check(text.slice(start, end))) return true;
        // Garbage of a misaligned reading is a partial group: a few characters at most.
        if (loose && end - start > length.max && end - start <= length.max + 3) {
          for (let size = length.min; size <= length.max; size += 1) {
            if (check(text.slice(end - size, end))) return true;
          }
        }
        return false;
      }),
  };
}

/** A detector tested over the whole text by `test` (gated inside it by cheap runs). */
export function custom(
  kind: string,
  test: (text: string, loose: boolean) => boolean,
): SecretPattern {
  return { kind, find: (text, loose = false) => test(text, loose) };
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

/** Every string `prefixes[i] + middle + suffixes[j]`. */
export function expand(
  prefixes: readonly string[],
  suffixes: readonly string[] = [""],
): readonly string[] {
  return prefixes.flatMap((prefix) => suffixes.map((suffix) => `${prefix}${suffix}`));
}
