/**
 * One decoding step each, PURE: given a layer of text (bytes as latin1 characters, or Unicode
 * text), the readings it could hide. decode-layers.ts applies them all to every layer, and again
 * to what they give, to a fixed point. Each decoder is cheap on text that holds none of its
 * encoding (one test or one pass of char-runs.ts).
 */
import zlib from "node:zlib";
import { privateKeyReading } from "./key-structure.js";

/** The step's limits: decompressed output past `maxBytes` is a BudgetExceeded. */
export interface StepLimits {
  maxBytes: number;
}

export class BudgetExceeded extends Error {
  override readonly name = "BudgetExceeded";
}

const MIN_STRING = 10;

/** Printable ASCII runs of bytes, as strings a secret could hide in. */
export function printableStrings(bytes: Buffer, min = MIN_STRING): string[] {
  // A loop, not a regular expression: one over a run of megabytes overflows the engine's stack.
  // With the default `min`, tab and newlines count as text too.
  const blanks = min === MIN_STRING;
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i += 1) {
    const byte = i < bytes.length ? (bytes[i] as number) : 0;
    const text =
      (byte >= 0x20 && byte <= 0x7e) ||
      (blanks && (byte === 0x09 || byte === 0x0a || byte === 0x0d));
    if (text) continue;
    if (i - start >= min) out.push(bytes.toString("latin1", start, i));
    start = i + 1;
  }
  return out;
}

/**
 * Decoded bytes as layers: a private key (as PEM), compressed data, UTF-16, UTF-8 text, or their
 * text runs. `tryRaw`:
 * whether raw deflate (which has no magic to sniff) is tried too; a zlib call per run of a large
 * text would cost more than all the rest, so only whole decodings at their first alignment try it.
 */
export function byteReadings(bytes: Buffer, limits: StepLimits, tryRaw = false): string[] {
  if (bytes.length === 0) return [];
  const out: string[] = [];
  // A private key's body without its armour, found by its structure (key-structure.ts).
  const key = privateKeyReading(bytes);
  if (key !== null) out.push(key);
  const inflated = decompressed(bytes, limits, tryRaw);
  if (inflated !== null) out.push(inflated.toString("latin1"));
  // One pass: zeros (UTF-16), bytes past ASCII (UTF-8), control bytes, the longest text run.
  let zeros = 0;
  let high = 0;
  let control = 0;
  let run = 0;
  let longest = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i] ?? 0;
    if (byte === 0) zeros += 1;
    else if (byte >= 0x80) high += 1;
    else if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) control += 1;
    run = (byte >= 0x20 && byte <= 0x7e) || byte === 0x0a ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  if (zeros * 4 >= bytes.length && bytes.length >= 2 * MIN_STRING) {
    // UTF-16: little-endian at the first byte, and big-endian (read from the second byte).
    for (const offset of [0, 1]) {
      const text = bytes
        .subarray(offset)
        .toString("utf16le")
        .replace(/^\ufeff/, "");
      // eslint-disable-next-line no-control-regex
      if ((text.match(/[\x00-\xff]/g)?.length ?? 0) * 2 >= text.length) out.push(text);
    }
  }
  if (high > 0 && control === 0 && zeros === 0) {
    const utf8 = bytes.toString("utf8");
    if (!utf8.includes("\ufffd")) out.push(utf8);
  }
  if (longest >= MIN_STRING) for (const piece of printableStrings(bytes)) out.push(piece);
  return out;
}

/**
 * gzip (1f 8b), zlib (78 01/5e/9c/da) or raw deflate, wherever gzip's magic shows (gzip inside
 * a multipart part): decompressed up to the step's byte limit, truncated streams read as far as
 * they go. Past the limit: BudgetExceeded (a bomb is refused, not read in part).
 */
export function decompressed(bytes: Buffer, limits: StepLimits, tryRaw = true): Buffer | null {
  const options = {
    maxOutputLength: Math.max(1, limits.maxBytes),
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  };
  const attempt = (inflate: () => Buffer): Buffer | null => {
    try {
      return inflate();
    } catch (error) {
      if (
        error instanceof RangeError ||
        (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
      )
        throw new BudgetExceeded("decompressed data past the budget");
      return null;
    }
  };
  const gzipAt = bytes.indexOf("1f8b08", 0, "hex");
  const member = gzipAt === -1 ? -1 : gzipBody(bytes, gzipAt);
  if (member !== -1) {
    // The deflate data inside the member: what follows it (a multipart boundary) is left.
    const out = attempt(() => zlib.inflateRawSync(bytes.subarray(member), options));
    if (out !== null && out.length > 0) return out;
  }
  const [first, second] = [bytes[0] ?? 0, bytes[1] ?? 0];
  if ((first & 0x0f) === 8 && ((first << 8) | second) % 31 === 0) {
    const out = attempt(() => zlib.inflateSync(bytes, options));
    if (out !== null && out.length > 0) return out;
  }
  // Raw deflate has no magic: tried on binary data only, where it fails at once when it is not.
  if (tryRaw && bytes.length >= 16) {
    const out = attempt(() => zlib.inflateRawSync(bytes, options));
    if (out !== null && out.length >= MIN_STRING) return out;
  }
  return null;
}

/** Characters of context kept on each side of a change (longer than any secret's halves). */
const CONTEXT = 128;

/**
 * `text` with `pattern`'s matches replaced, as a layer: where changes are sparse, only the
 * changed places with CONTEXT characters around them (joined by newlines), so that a few escapes
 * in a large file do not make a copy of it; where they are dense, the whole text.
 */
export function replacedAround(
  text: string,
  pattern: RegExp,
  replace: (match: string, ...groups: (string | undefined)[]) => string,
): string {
  const spans: [number, number][] = [];
  for (const match of text.matchAll(pattern)) {
    const start = Math.max(0, match.index - CONTEXT);
    const end = Math.min(text.length, match.index + match[0].length + CONTEXT);
    const last = spans[spans.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = end;
    else spans.push([start, end]);
  }
  if (spans.length === 0) return text;
  const covered = spans.reduce((sum, [start, end]) => sum + end - start, 0);
  const apply = (piece: string): string =>
    piece.replace(pattern, replace as (substring: string, ...args: unknown[]) => string);
  if (covered * 2 >= text.length) return apply(text);
  return spans.map(([start, end]) => apply(text.slice(start, end))).join("\n");
}

/** Where the deflate data of the gzip member at `at` starts (past its header), or -1. */
function gzipBody(bytes: Buffer, at: number): number {
  const flags = bytes[at + 3] ?? 0;
  let pos = at + 10;
  if (flags & 0x04) pos += 2 + (bytes.readUInt16LE(Math.min(pos, bytes.length - 2)) || 0);
  for (const flag of [0x08, 0x10]) {
    if (flags & flag) {
      const zero = bytes.indexOf(0, pos);
      if (zero === -1) return -1;
      pos = zero + 1;
    }
  }
  if (flags & 0x02) pos += 2;
  return pos < bytes.length ? pos : -1;
}

/** `%41` (and the old `%u0041`) decoded, once. */
export function percentDecoded(text: string): string[] {
  if (!/%(?:[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})/.test(text)) return [];
  return [
    replacedAround(text, /%(?:u([0-9a-fA-F]{4})|([0-9a-fA-F]{2}))/g, (_m, wide, hex) =>
      String.fromCharCode(parseInt(wide ?? hex ?? "", 16)),
    ),
  ];
}

/** True when `text` (bytes as latin1) starts as binary data: control bytes, or many past ASCII. */
export function binaryHead(text: string): boolean {
  const head = text.slice(0, 64);
  return (
    // eslint-disable-next-line no-control-regex
    /[\x00-\x08\x0e-\x1f]/.test(head) ||
    (head.match(/[\x80-\xff]/g)?.length ?? 0) * 4 >= head.length
  );
}

/** True when text that is not binary may still hold compressed data: gzip's magic, or a NUL. */
export function mayHoldCompressed(text: string): boolean {
  return text.includes("\x1f\x8b\x08") || text.includes("\x00");
}

/**
 * Every decompressed reading of `text` (bytes as latin1), nested ones too, as compressedText
 * finds them: for a gate that looks only for its own secrets (the credential proxy) in what has
 * no Content-Encoding. Throws BudgetExceeded when the data inflates past `maxBytes`.
 */
export function decompressedReadings(text: string, maxBytes: number, depth = 4): string[] {
  const out: string[] = [];
  let layer = [text];
  for (let level = 0; level < depth && layer.length > 0; level += 1) {
    const next: string[] = [];
    for (const piece of layer) {
      for (const reading of compressedText(piece, { maxBytes })) {
        if (reading !== piece && !out.includes(reading)) next.push(reading);
      }
    }
    out.push(...next);
    layer = next;
  }
  return out;
}

/**
 * Compressed data in a layer that holds bytes (a body sent without its Content-Encoding, a
 * multipart part): decompressed, raw deflate tried when the layer starts as binary data.
 */
export function compressedText(text: string, limits: StepLimits): string[] {
  const binary = binaryHead(text);
  if (!binary && !mayHoldCompressed(text)) return [];
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\xff]/.test(text)) return [];
  // As bytes: compressed data, UTF-16 and the text runs of binary data.
  return byteReadings(Buffer.from(text, "latin1"), limits, binary);
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  sol: "/",
  bsol: "\\",
  lowbar: "_",
  hyphen: "-",
  dash: "-",
  minus: "-",
  period: ".",
  colon: ":",
  semi: ";",
  comma: ",",
  excl: "!",
  quest: "?",
  num: "#",
  dollar: "$",
  percnt: "%",
  lpar: "(",
  rpar: ")",
  ast: "*",
  plus: "+",
  equals: "=",
  lsqb: "[",
  rsqb: "]",
  lcub: "{",
  rcub: "}",
  verbar: "|",
  vert: "|",
  grave: "`",
  Hat: "^",
  tilde: "~",
  commat: "@",
  NewLine: "\n",
  Tab: "\t",
};

/** HTML character references (named, `&#65;`, `&#x41;`) decoded. */
export function htmlDecoded(text: string): string[] {
  if (!text.includes("&")) return [];
  const next = replacedAround(
    text,
    /&(?:#[xX]([0-9a-fA-F]{1,6});?|#([0-9]{1,7});?|([A-Za-z]{2,8});)/g,
    (match, hex, dec, name) => {
      const code = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? Number(dec) : -1;
      if (code >= 0) return code <= 0x10ffff ? String.fromCodePoint(code) : match;
      return NAMED_ENTITIES[name ?? ""] ?? match;
    },
  );
  return next === text ? [] : [next];
}

/** JSON's and C's one-letter escapes. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
  v: "\v",
  "/": "/",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/**
 * `\x41`, `\u0041`, `\u{41}` and octal `\101` escapes decoded (in any text, not only JSON), and
 * JSON's and C's one-letter escapes (`\n`, `\/`, `\\`, `\"`): a JSON string holding escaped
 * text (wrapped base64, `\\x67`) reads as that text.
 */
export function escapesDecoded(text: string): string[] {
  if (!text.includes("\\")) return [];
  const next = replacedAround(
    text,
    /\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|([0-3][0-7]{2})|([nrtbfv/\\"']))/g,
    (match, x, braced, u, octal, simple) => {
      if (simple !== undefined) return SIMPLE_ESCAPES[simple] ?? match;
      const code = parseInt(x ?? braced ?? u ?? "", 16);
      if (octal !== undefined) return String.fromCharCode(parseInt(octal, 8));
      return code <= 0x10ffff ? String.fromCodePoint(code) : match;
    },
  );
  return next === text ? [] : [next];
}

/**
 * The text with its escapes undone in one layer: percent, HTML references and backslash escapes
 * each decoded once where they show. One layer, not one per kind: on large text each would be a
 * copy of it, and their orders many copies; the fixed point undoes nested ones.
 */
export function unescaped(text: string): string[] {
  let current = text;
  for (const decode of [percentDecoded, htmlDecoded, escapesDecoded]) {
    current = decode(current)[0] ?? current;
  }
  return current === text ? [] : [current];
}
