/**
 * Maximal runs of characters of one class (ASCII), PURE. The content checks look for long runs
 * (base64, hex, key-like strings); a regular expression tries every position of the text, which
 * on source code (full of identifiers) costs more than all the rest of the checks.
 *
 * `classRuns` looks only at every `min`-th character until one is in the class (a run at least
 * `min` long must cover one of them), then walks out from it to both ends of its run. On text
 * whose runs are short, most characters are never read: hex spans of 20 in source code cost a
 * fifth of a pass over the text.
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

/**
 * Calls `found(start, end)` for every maximal run of `member` characters at least `min` (>= 1)
 * long, in order, until it returns true (then true is returned).
 */
export function someRun(
  text: string,
  member: Uint8Array,
  min: number,
  found: (start: number, end: number) => boolean,
): boolean {
  // The class test is written out at each use: as a function it costs twice the time.
  const step = Math.max(1, Math.floor(min));
  // Every character before `floor` is known: in a run already reported, or outside the class.
  let floor = 0;
  let probe = step - 1;
  const length = text.length;
  while (probe < length) {
    let code = text.charCodeAt(probe);
    if (code >= 128 || member[code] !== 1) {
      floor = probe + 1;
      probe += step;
      continue;
    }
    let start = probe;
    while (start > floor) {
      code = text.charCodeAt(start - 1);
      if (code >= 128 || member[code] !== 1) break;
      start -= 1;
    }
    let end = probe + 1;
    while (end < length) {
      code = text.charCodeAt(end);
      if (code >= 128 || member[code] !== 1) break;
      end += 1;
    }
    if (end - start >= step && found(start, end)) return true;
    floor = end + 1;
    probe = end + step;
  }
  return false;
}

/** [start, end) of every maximal run of `member` characters at least `min` (>= 1) long. */
export function classRuns(text: string, member: Uint8Array, min: number): [number, number][] {
  const runs: [number, number][] = [];
  someRun(text, member, min, (start, end) => {
    runs.push([start, end]);
    return false;
  });
  return runs;
}
