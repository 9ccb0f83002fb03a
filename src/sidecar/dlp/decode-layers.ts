/**
 * Every reading of a piece of text that content checks look at, PURE: the text, its Unicode
 * normalisation (normalise.ts), and every layer the decoders (text-decoders.ts: percent, HTML
 * entities, backslash escapes, base64 plain and wrapped, base32, hex, compressed data, UTF-16;
 * wrapping-decoders.ts: quoted-printable, char codes, spaced-out text, uuencode, zip entries)
 * find in it, each decoded layer decoded again, to a FIXED POINT: until no decoder finds a layer
 * not seen before.
 *
 * Budgets bound the walk, in proportion to the text's size so that ordinary traffic never meets
 * them: layers, characters decoded, depth of nesting, and time. A walk that meets one ends as
 * `exhausted`, which the inspector turns into a finding (fail closed): decoys that use up the
 * checks before the secret is reached get the request refused, not passed.
 */
import { normaliseUnicode } from "./normalise.js";
import { base32Decoded, base64Decoded, hexDecoded } from "./radix-decoders.js";
import { BudgetExceeded, compressedText, type StepLimits, unescaped } from "./text-decoders.js";
import {
  charCodes,
  quotedPrintable,
  spacedOut,
  uudecoded,
  zipEntries,
} from "./wrapping-decoders.js";

export { printableStrings } from "./text-decoders.js";

export interface DecodeBudget {
  /** Layers read, the text itself included. */
  maxLayers: number;
  /** Characters of all decoded layers together. */
  maxChars: number;
  /** Layers nested in one another. */
  maxDepth: number;
  /** Milliseconds for the whole walk. */
  maxMillis: number;
}

/** The budget for `text`: generous for ordinary text, in proportion to its size. */
export function budgetFor(text: string): DecodeBudget {
  return {
    maxLayers: 2048 + Math.ceil(text.length / 32),
    maxChars: 1024 * 1024 + 8 * text.length,
    maxDepth: 24,
    maxMillis: 5000 + Math.ceil(text.length / 1000),
  };
}

export type WalkResult = "found" | "clean" | "exhausted";

/** Control characters (not white space) or past Latin-1: a piece that is bytes, not text. */
// eslint-disable-next-line no-control-regex
const BINARY = /[\x00-\x08\x0e-\x1f]|[^\x00-\xff]/;

/** The longest decoded piece read together with others. */
const JOINED_PIECE = 256;

type Decoder = (text: string, limits: StepLimits) => string[];

/**
 * The decoders, and whether what each gives is bytes read from an encoding, whose first
 * characters may be garbage of a misaligned reading (detector.ts: read loose). Escapes undone
 * keep the text around them as it was: read as strictly as the layer they come from.
 */
const DECODERS: readonly [Decoder, boolean][] = [
  [unescaped, false],
  [quotedPrintable, false],
  [charCodes, false],
  [spacedOut, false],
  [uudecoded, true],
  [zipEntries, true],
  [compressedText, true],
  [base64Decoded, true],
  [base32Decoded, true],
  [hexDecoded, true],
];

/**
 * Calls `visit` on every reading of `text` (with whether it is to be read loose: bytes of an
 * encoding, see DECODERS) until it returns true ("found"), no reading is left
 * ("clean"), or a budget is met ("exhausted").
 */
export function walkLayers(
  text: string,
  visit: (layer: string, decoded: boolean) => boolean,
  budget: DecodeBudget = budgetFor(text),
  now: () => number = () => performance.now(),
): WalkResult {
  const deadline = now() + budget.maxMillis;
  const seen = new Set<string>([text]);
  const queue: { layer: string; depth: number; loose: boolean }[] = [
    { layer: text, depth: 0, loose: false },
  ];
  let chars = 0;
  const add = (layer: string, depth: number, loose: boolean): boolean => {
    if (layer.length === 0 || seen.has(layer)) return true;
    seen.add(layer);
    chars += layer.length;
    if (seen.size > budget.maxLayers || chars > budget.maxChars || depth > budget.maxDepth) {
      return false;
    }
    queue.push({ layer, depth, loose });
    return true;
  };
  for (let next = 0; next < queue.length; next += 1) {
    const { layer, depth, loose } = queue[next] ?? { layer: "", depth: 0, loose: false };
    if (visit(layer, loose)) return "found";
    const normal = normaliseUnicode(layer);
    if (normal !== layer && !add(normal, depth, loose)) return "exhausted";
    if (now() > deadline) return "exhausted";
    for (const [decoder, bytes] of DECODERS) {
      let decoded: string[];
      try {
        decoded = decoder(layer, { maxBytes: budget.maxChars - chars });
      } catch (error) {
        if (error instanceof BudgetExceeded) return "exhausted";
        throw error;
      }
      // The short text pieces one decoder finds in one layer are read as one layer: many small
      // pieces (the text runs of many decoded runs) cost one pass of the detectors, not one
      // each. Long or binary pieces (compressed data, UTF-16) stay alone, so that a later
      // decoding of their bytes reads them from their own start.
      const text: string[] = [];
      for (const out of decoded) {
        if (out.length > JOINED_PIECE || BINARY.test(out)) {
          if (!add(out, depth + 1, loose || bytes)) return "exhausted";
        } else text.push(out);
      }
      if (text.length > 0 && !add(text.join("\n"), depth + 1, loose || bytes)) return "exhausted";
    }
  }
  return "clean";
}

/** Every reading of `text` (for tests and tools); stops at the budget. */
export function decodeLayers(text: string): string[] {
  const layers: string[] = [];
  walkLayers(text, (layer) => {
    layers.push(layer);
    return false;
  });
  return layers;
}
