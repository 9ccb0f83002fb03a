/**
 * Base64, base32 and hex runs in a layer, decoded at EVERY alignment, PURE. A run need not start
 * where its encoding does (`xx` + base64 of a token reads as garbage from the first character),
 * so base64 is read from each of its first 4 characters, base32 from each of 8, hex from each of
 * 2. Each run's characters are turned into their values once; each alignment is then packed into
 * one scratch array (reused across runs) and judged in the same loop before anything is copied,
 * so the alignments of random data (digests, ids) cost a pass each and no allocation.
 */
import { charClass, someRun } from "./char-runs.js";
import { privateKeyStart } from "./key-structure.js";
import { type StepLimits, byteReadings } from "./text-decoders.js";

const MIN_BASE64 = 16;
const MIN_BASE32 = 16;
const MIN_HEX_SPAN = 20;
/** A run of text bytes long enough to be read (text-decoders.ts MIN_STRING). */
const TEXT_RUN = 10;
/** Decoded bytes at the first alignment from which raw deflate (no magic) is tried too. */
const RAW_DEFLATE_FROM = 256;

/** Each character's value in an alphabet (both base64 alphabets, base32 in any case, hex). */
function valueTable(alphabets: Record<string, number>): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (const [chars, from] of Object.entries(alphabets)) {
    for (let i = 0; i < chars.length; i += 1) table[chars.charCodeAt(i)] = from + i;
  }
  return table;
}

const BASE64_VALUES = valueTable({
  ABCDEFGHIJKLMNOPQRSTUVWXYZ: 0,
  abcdefghijklmnopqrstuvwxyz: 26,
  "0123456789": 52,
  "+": 62,
  "-": 62,
  "/": 63,
  _: 63,
});
const BASE32_VALUES = valueTable({
  ABCDEFGHIJKLMNOPQRSTUVWXYZ: 0,
  abcdefghijklmnopqrstuvwxyz: 0,
  "234567": 26,
});
const HEX_VALUES = valueTable({ "0123456789": 0, abcdef: 10, ABCDEF: 10 });

/** Arrays reused across the runs of one decoding (grown as needed). */
class Scratch {
  values = new Uint8Array(256);
  bytes = new Uint8Array(256);
  fit(chars: number): void {
    if (this.values.length < chars) {
      this.values = new Uint8Array(chars * 2);
      this.bytes = new Uint8Array(chars * 2);
    }
  }
}

/**
 * The readings of `run` (characters of an alphabet of `bits`-bit values; others skipped) at each
 * of `alignments` first characters.
 */
function alignedReadings(
  run: string,
  table: Int8Array,
  bits: number,
  alignments: number,
  limits: StepLimits,
  scratch: Scratch,
  out: string[],
): void {
  scratch.fit(run.length + 8);
  const { values, bytes } = scratch;
  let count = 0;
  for (let i = 0; i < run.length; i += 1) {
    const code = run.charCodeAt(i);
    const value = code < 128 ? (table[code] ?? -1) : -1;
    if (value >= 0) values[count++] = value;
  }
  for (let shift = 0; shift < alignments && shift < count; shift += 1) {
    // Packed and judged in one loop (byteReadings' own tests: a text run, UTF-16's zeros, UTF-8,
    // compressed data's magic): most alignments of most runs are random bytes, read by none.
    let length = 0;
    let acc = 0;
    let held = 0;
    let text = 0;
    let zeros = 0;
    let high = 0;
    let control = 0;
    let worth = false;
    let previous = 0;
    for (let i = shift; i < count; i += 1) {
      acc = ((acc << bits) | (values[i] as number)) & 0xffffff;
      held += bits;
      if (held < 8) continue;
      held -= 8;
      const byte = (acc >>> held) & 0xff;
      bytes[length++] = byte;
      if ((byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x09 || byte === 0x0d) {
        text += 1;
        if (text >= TEXT_RUN) worth = true;
      } else {
        text = 0;
        if (byte === 0) zeros += 1;
        else if (byte >= 0x80) {
          high += 1;
          if (byte === 0x8b && previous === 0x1f) worth = true; // gzip's magic
        } else control += 1;
      }
      previous = byte;
    }
    const tryRaw = shift === 0 && length >= RAW_DEFLATE_FROM;
    const head = ((bytes[0] as number) << 8) | (bytes[1] as number);
    const zlib = length >= 2 && ((bytes[0] as number) & 0x0f) === 8 && head % 31 === 0;
    const utf16 = zeros * 4 >= length && length >= 2 * TEXT_RUN;
    const utf8 = high > 0 && control === 0 && zeros === 0;
    const key = privateKeyStart(bytes, length) !== -1;
    if (!worth && !tryRaw && !zlib && !utf16 && !utf8 && !key) continue;
    // One by one: spread, a reading of very many pieces would overflow the call stack.
    for (const reading of byteReadings(Buffer.from(bytes.subarray(0, length)), limits, tryRaw)) {
      out.push(reading);
    }
  }
}

/** Base64 (standard or URL-safe), and the white space a wrapped run holds. */
const WRAPPED_BASE64 = charClass(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_- \t\r\n",
);

/**
 * The bytes of every base64 run, and of runs wrapped by white space every few characters: one
 * pass over the spans of base64 characters and white space finds both. A span is read as wrapped
 * base64 when it holds white space, at least MIN_BASE64 base64 characters, and more than a third
 * of them capitals, digits or signs (prose and code are mostly lower case).
 */
export function base64Decoded(text: string, limits: StepLimits): string[] {
  const out: string[] = [];
  const scratch = new Scratch();
  someRun(text, WRAPPED_BASE64, MIN_BASE64, (start, end) => {
    let blanks = 0;
    let dense = 0;
    let runStart = start;
    for (let i = start; i <= end; i += 1) {
      const code = i < end ? text.charCodeAt(i) : 0x20;
      const blank = code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
      if (!blank) {
        if ((code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39)) dense += 1;
        else if (code === 0x2b || code === 0x2f) dense += 1;
        continue;
      }
      if (i < end) blanks += 1;
      // A plain run ends here. One with no capital, digit or sign is a word, not base64 data.
      if (i - runStart >= MIN_BASE64) {
        const run = text.slice(runStart, i);
        if (/[A-Z0-9+/]/.test(run) || text.startsWith("=", i)) {
          alignedReadings(run, BASE64_VALUES, 6, 4, limits, scratch, out);
        }
      }
      runStart = i + 1;
    }
    const chars = end - start - blanks;
    if (blanks > 0 && chars >= MIN_BASE64 && dense * 3 >= chars) {
      alignedReadings(text.slice(start, end), BASE64_VALUES, 6, 4, limits, scratch, out);
    }
    return false;
  });
  return out;
}

const BASE32_CHARS = charClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567");

/** RFC 4648 base32 runs (upper or lower case, padded or not), at each of the 8 alignments. */
export function base32Decoded(text: string, limits: StepLimits): string[] {
  const out: string[] = [];
  const scratch = new Scratch();
  someRun(text, BASE32_CHARS, MIN_BASE32, (start, end) => {
    const run = text.slice(start, end);
    // Base32 is of one case: in a run of both, its single-case stretches (letters glued on
    // either side of the data).
    const pieces =
      run.toUpperCase() === run || run.toLowerCase() === run
        ? [run]
        : (run.match(/[A-Z2-7]{16,}|[a-z2-7]{16,}/g) ?? []);
    for (const piece of pieces) {
      if ((piece.match(/[2-7]/g)?.length ?? 0) < 2) continue;
      alignedReadings(piece, BASE32_VALUES, 5, 8, limits, scratch, out);
    }
    return false;
  });
  return out;
}

const HEX_SPAN = charClass("0123456789abcdefABCDEFxX:-, ");
const HEX_RUN = /(?:(?:0[xX])?[0-9a-fA-F]{2}[:\-, ]{0,2}){10,}/g;

/** Hex runs, bare or with `:`, `-`, `,`, space or `0x` between bytes, at both alignments. */
export function hexDecoded(text: string, limits: StepLimits): string[] {
  const out: string[] = [];
  const scratch = new Scratch();
  someRun(text, HEX_SPAN, MIN_HEX_SPAN, (start, end) => {
    for (const match of text.slice(start, end).matchAll(HEX_RUN)) {
      alignedReadings(match[0].replace(/0[xX]/g, ""), HEX_VALUES, 4, 2, limits, scratch, out);
    }
    return false;
  });
  return out;
}
