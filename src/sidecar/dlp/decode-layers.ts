/**
 * The readings of a piece of text that content checks look at, PURE: the text itself, its
 * percent-decoded forms (up to three rounds, `+` as space too), and the printable strings inside
 * every base64 or hex run (hex with or without `:`/`-`/space between bytes), one level deep from
 * each of those. Bounded: at most MAX_LAYERS readings, runs up to MAX_RUN characters.
 */

const MAX_LAYERS = 64;
const MAX_RUN = 64 * 1024;
const MIN_STRING = 10;

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /(?:[0-9a-fA-F]{2}[:\- ]?){10,}/g;

function percentDecode(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** Printable ASCII runs of bytes, as strings a secret could hide in. */
export function printableStrings(bytes: Buffer, min = MIN_STRING): string[] {
  const text = bytes.toString("latin1");
  return text.match(new RegExp(`[\\x20-\\x7e]{${min},}`, "g")) ?? [];
}

function decodedRuns(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(BASE64_RUN)) {
    const run = match[0].slice(0, MAX_RUN);
    // A run with no upper or no lower case letter is a word or a number, not base64 data.
    if (!/[A-Z]/.test(run) && !/[0-9+/=]/.test(run)) continue;
    for (const variant of [run, run.slice(1), run.slice(2), run.slice(3)]) {
      const bytes = Buffer.from(
        variant.replace(/[^A-Za-z0-9+/_-]/g, ""),
        /[_-]/.test(variant) ? "base64url" : "base64",
      );
      found.push(...printableStrings(bytes));
    }
  }
  for (const match of text.matchAll(HEX_RUN)) {
    const hex = match[0].replace(/[:\- ]/g, "").slice(0, MAX_RUN);
    for (const start of [0, 1]) {
      const even = hex.slice(start, start + ((hex.length - start) & ~1));
      found.push(...printableStrings(Buffer.from(even, "hex")));
    }
  }
  return found;
}

export function decodeLayers(text: string): string[] {
  const layers = new Set<string>([text]);
  let current = text;
  for (let round = 0; round < 3 && current.includes("%"); round += 1) {
    const next = percentDecode(current.replace(/\+/g, " "));
    if (next === current) break;
    layers.add(next);
    current = next;
  }
  for (const layer of [...layers]) {
    for (const decoded of decodedRuns(layer)) {
      if (layers.size >= MAX_LAYERS) break;
      layers.add(decoded);
    }
  }
  return [...layers];
}
