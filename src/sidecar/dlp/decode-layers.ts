/**
 * Every reading of a piece of text that content checks look at, PURE: the text, its Unicode
 * normalisation (normalise.ts), and every layer the decoders (text-decoders.ts: percent, HTML
 * entities, backslash escapes, base64 plain and wrapped, base32, hex, compressed data, UTF-16)
 * find in it, each decoded layer decoded again, to a FIXED POINT: until no decoder finds a layer
 * not seen before.
 *
 * Budgets bound the walk, in proportion to the text's size so that ordinary traffic never meets
 * them: layers, characters decoded, depth of nesting, and time. A walk that meets one ends as
 * `exhausted`, which the inspector turns into a finding (fail closed): decoys that use up the
 * checks before the secret is reached get the request refused, not passed.
 */
import { normaliseUnicode } from "./normalise.js";
import {
  BudgetExceeded,
  base32Decoded,
  compressedText,
  base64Decoded,
  hexDecoded,
  type StepLimits,
  unescaped,
} from "./text-decoders.js";

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

type Decoder = (text: string, limits: StepLimits) => string[];

const DECODERS: readonly Decoder[] = [
  unescaped,
  compressedText,
  base64Decoded,
  base32Decoded,
  compressedText,
  hexDecoded,
];

/**
 * Calls `visit` on every reading of `text` (with whether it is a decoded one) until it returns true ("found"), no reading is left
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
  const queue: { layer: string; depth: number }[] = [{ layer: text, depth: 0 }];
  let chars = 0;
  const add = (layer: string, depth: number): boolean => {
    if (layer.length === 0 || seen.has(layer)) return true;
    seen.add(layer);
    chars += layer.length;
    if (seen.size > budget.maxLayers || chars > budget.maxChars || depth > budget.maxDepth) {
      return false;
    }
    queue.push({ layer, depth });
    return true;
  };
  for (let next = 0; next < queue.length; next += 1) {
    const { layer, depth } = queue[next] ?? { layer: "", depth: 0 };
    if (visit(layer, depth > 0)) return "found";
    const normal = normaliseUnicode(layer);
    if (normal !== layer && !add(normal, depth)) return "exhausted";
    if (now() > deadline) return "exhausted";
    for (const decoder of DECODERS) {
      let decoded: string[];
      try {
        decoded = decoder(layer, { maxBytes: budget.maxChars - chars });
      } catch (error) {
        if (error instanceof BudgetExceeded) return "exhausted";
        throw error;
      }
      for (const out of decoded) if (!add(out, depth + 1)) return "exhausted";
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
