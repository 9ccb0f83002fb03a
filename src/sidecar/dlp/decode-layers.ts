/**
 * The readings of a piece of text that content checks look at, PURE: the text itself, its
 * percent-decoded forms (up to three rounds, `+` as space too), and the printable strings inside
 * every base64 or hex run (hex with or without `:`/`-`/space between bytes), one level deep from
 * each of those. Bounded: at most MAX_LAYERS readings, runs up to MAX_RUN characters.
 */

import { BASE64_CHARS, charClass, classRuns } from "./char-runs.js";

const MAX_LAYERS = 64;
const MAX_RUN = 64 * 1024;
const MIN_STRING = 10;

/** The shortest base64 run read. */
const MIN_BASE64 = 16;
const HEX_RUN = /(?:[0-9a-fA-F]{2}[:\- ]?){10,}/g;
/** Every character a hex run can hold; a run of them shorter than this holds no hex run. */
const HEX_RUN_CHARS = charClass("0123456789abcdefABCDEF:- ");
const MIN_HEX_SPAN = 20;

function percentDecode(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

const PRINTABLE = new RegExp(`[\\x20-\\x7e]{${MIN_STRING},}`, "g");

/** Printable ASCII runs of bytes, as strings a secret could hide in. */
export function printableStrings(bytes: Buffer, min = MIN_STRING): string[] {
  const text = bytes.toString("latin1");
  const pattern = min === MIN_STRING ? PRINTABLE : new RegExp(`[\\x20-\\x7e]{${min},}`, "g");
  return text.match(pattern) ?? [];
}

/** Whether `bytes` hold a printable run long enough to be a finding: a cheap test first. */
function hasPrintableRun(bytes: Buffer): boolean {
  let run = 0;
  for (const byte of bytes) {
    run = byte >= 0x20 && byte <= 0x7e ? run + 1 : 0;
    if (run >= MIN_STRING) return true;
  }
  return false;
}

/** The decoded strings of `text`'s runs, lazily: a reader stops once it has enough. */
function* decodedRuns(text: string): Generator<string> {
  for (const [start, end] of classRuns(text, BASE64_CHARS, MIN_BASE64)) {
    const clean = text.slice(start, Math.min(end, start + MAX_RUN));
    const padded = text.startsWith("=", end);
    // A run with no upper or no lower case letter is a word or a number, not base64 data.
    if (!/[A-Z]/.test(clean) && !/[0-9+/]/.test(clean) && !padded) continue;
    const encoding = /[_-]/.test(clean) ? "base64url" : "base64";
    for (let shift = 0; shift < 4; shift += 1) {
      const bytes = Buffer.from(shift === 0 ? clean : clean.slice(shift), encoding);
      if (hasPrintableRun(bytes)) yield* printableStrings(bytes);
    }
  }
  // Hex runs lie inside spans of hex digits and separators: only those are searched.
  for (const [start, end] of classRuns(text, HEX_RUN_CHARS, MIN_HEX_SPAN)) {
    yield* decodedHex(text.slice(start, end));
  }
}

function* decodedHex(span: string): Generator<string> {
  for (const match of span.matchAll(HEX_RUN)) {
    const hex = match[0].replace(/[:\- ]/g, "").slice(0, MAX_RUN);
    for (const start of [0, 1]) {
      const even = hex.slice(start, start + ((hex.length - start) & ~1));
      yield* printableStrings(Buffer.from(even, "hex"));
    }
  }
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
    if (layers.size >= MAX_LAYERS) break;
    for (const decoded of decodedRuns(layer)) {
      layers.add(decoded);
      if (layers.size >= MAX_LAYERS) break;
    }
  }
  return [...layers];
}
