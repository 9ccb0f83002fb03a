/**
 * Decoders for wrappings an agent that has read the others would pick next, PURE (one step each,
 * like text-decoders.ts; decode-layers.ts applies them to a fixed point). Each is cheap on text
 * that holds none of its wrapping (one test, or a regular expression that fails at once):
 *
 *   quotedPrintable  `=67=68=70` (MIME's quoted-printable, soft line breaks `=\n` too)
 *   charCodes        `103,104,112,...` (a char-code array, String.fromCharCode(...), chr() lists)
 *   spacedOut        `g.h.p._.A.B` / `A K I A ...`: one character, the same separator, repeated
 *   uudecoded        uuencoded lines (`begin 644 name`, or the `M...` lines alone)
 *   zipEntries       deflated entries of a zip archive (local file headers, `PK\3\4`)
 */
import zlib from "node:zlib";
import { type StepLimits, BudgetExceeded, replacedAround } from "./text-decoders.js";

/** Quoted-printable: three or more `=XX` (upper-case hex, as the encoding writes it). */
export function quotedPrintable(text: string): string[] {
  if (!/=[0-9A-F]{2}=[0-9A-F]{2}=[0-9A-F]{2}/.test(text)) return [];
  const next = replacedAround(text, /=(?:\r?\n|([0-9A-F]{2}))/g, (_m, hex) =>
    hex === undefined ? "" : String.fromCharCode(parseInt(hex, 16)),
  );
  return next === text ? [] : [next];
}

/** A printable character's code in decimal (32-126), or in hex with 0x (hex runs do the rest). */
const CODE = "(?:3[2-9]|[4-9][0-9]|1[01][0-9]|12[0-6])";
const CODE_LIST = new RegExp(`(?<![0-9.])(?:${CODE}\\s*,\\s*){7,}${CODE}(?![0-9.])`, "g");

/** Lists of eight or more printable character codes, as the text they spell. */
export function charCodes(text: string): string[] {
  if (!/[0-9]\s*,\s*[0-9]/.test(text)) return [];
  const pieces: string[] = [];
  for (const match of text.matchAll(CODE_LIST)) {
    pieces.push(String.fromCharCode(...match[0].split(",").map((n) => Number(n.trim()))));
  }
  return pieces;
}

const SPACED = /([A-Za-z0-9+/=_-])([ .,:;|_\-*~])(?:[A-Za-z0-9+/=_-]\2){9,}[A-Za-z0-9+/=_-]/g;

/** Characters cut apart by one separator repeated (ten or more), put back together. */
export function spacedOut(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(SPACED)) {
    const separator = match[2] ?? " ";
    pieces.push(match[0].split(separator).join(""));
  }
  return pieces;
}

/** One uuencoded line: its length character, then four characters per three bytes. */
const UU_LINE = /^([!-M])([ -`]+)$/gm;

/** The bytes of uuencoded lines (with or without `begin`), as latin1 text. */
export function uudecoded(text: string): string[] {
  if (!/^begin [0-7]{3} |^M[ -`]{60}$/m.test(text)) return [];
  const bytes: number[] = [];
  for (const match of text.matchAll(UU_LINE)) {
    const count = (match[1] ?? " ").charCodeAt(0) - 32;
    const body = match[2] ?? "";
    if (body.length < Math.ceil(count / 3) * 4) continue;
    const values = Array.from(body, (c) => (c.charCodeAt(0) - 32) & 63);
    const line: number[] = [];
    for (let i = 0; i + 3 < values.length && line.length < count; i += 4) {
      const [a = 0, b = 0, c = 0, d = 0] = values.slice(i, i + 4);
      line.push((a << 2) | (b >> 4), ((b & 15) << 4) | (c >> 2), ((c & 3) << 6) | d);
    }
    bytes.push(...line.slice(0, count));
  }
  return bytes.length === 0 ? [] : [Buffer.from(bytes).toString("latin1")];
}

/** The first entries of a zip archive read (an archive of more is read that far). */
const MAX_ENTRIES = 64;

/** Deflated (or stored) entries of a zip archive in `text` (bytes as latin1). */
export function zipEntries(text: string, limits: StepLimits): string[] {
  let at = text.indexOf("PK\x03\x04");
  if (at === -1) return [];
  const bytes = Buffer.from(text, "latin1");
  const out: string[] = [];
  for (let n = 0; at !== -1 && at + 30 <= bytes.length && n < MAX_ENTRIES; n += 1) {
    const method = bytes.readUInt16LE(at + 8);
    const size = bytes.readUInt32LE(at + 18);
    const start = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
    const end = size > 0 ? Math.min(bytes.length, start + size) : bytes.length;
    if (method === 0) out.push(bytes.toString("latin1", start, end));
    else if (method === 8) {
      try {
        out.push(
          zlib
            .inflateRawSync(bytes.subarray(start, end), {
              maxOutputLength: Math.max(1, limits.maxBytes),
              finishFlush: zlib.constants.Z_SYNC_FLUSH,
            })
            .toString("latin1"),
        );
      } catch (error) {
        if (error instanceof RangeError) throw new BudgetExceeded("a zip entry past the budget");
        // Not deflate data after all: the next header.
      }
    }
    at = bytes.indexOf("PK\x03\x04", Math.max(at + 4, size > 0 ? end : at + 4), "latin1");
  }
  return out;
}
