/**
 * Maximal runs of characters of one class (ASCII), PURE. The content checks look for long runs
 * (base64, hex, key-like strings); a regular expression tries every position of the text, which
 * on source code (full of identifiers) costs more than all the rest of the checks. A loop over
 * the text that reports only runs long enough finds the same candidates at a fraction of it.
 */

/** A lookup table of the characters in `chars`. */
export function charClass(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const char of chars) table[char.charCodeAt(0)] = 1;
  return table;
}

export const BASE64_CHARS = charClass(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-",
);

/** [start, end) of every maximal run of `member` characters at least `min` long. */
export function* classRuns(
  text: string,
  member: Uint8Array,
  min: number,
): Generator<[number, number]> {
  let start = -1;
  for (let at = 0; at <= text.length; at += 1) {
    const code = at < text.length ? text.charCodeAt(at) : 0;
    if (code < 128 && member[code] === 1) {
      if (start === -1) start = at;
    } else if (start !== -1) {
      if (at - start >= min) yield [start, at];
      start = -1;
    }
  }
}
