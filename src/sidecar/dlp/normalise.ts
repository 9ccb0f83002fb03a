/**
 * Unicode text as a detector should read it, PURE: NFKC (fullwidth and compatibility forms to
 * their plain letters), with invisible characters removed (zero-width, bidirectional controls,
 * soft hyphen, word joiners, BOM) and common lookalikes (Cyrillic and Greek letters that look like
 * Latin ones) mapped to ASCII. ASCII text is returned as it is, at the cost of one test.
 */
import { replacedAround } from "./text-decoders.js";

// Variation selectors and joiners are what is removed: the class is meant to hold them alone.
const INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/g;

/** Lookalike letter to the ASCII letter it passes for. */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: "a",
  в: "b",
  е: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ј: "j",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ү: "y",
  һ: "h",
  ӏ: "l",
  ɡ: "g",
  А: "A",
  В: "B",
  Е: "E",
  К: "K",
  М: "M",
  Н: "H",
  О: "O",
  Р: "P",
  С: "C",
  Т: "T",
  У: "Y",
  Х: "X",
  Ѕ: "S",
  І: "I",
  Ј: "J",
  Ԁ: "D",
  Ԛ: "Q",
  Ԝ: "W",
  Ү: "Y",
  Һ: "H",
  Ӏ: "I",
  // Greek
  α: "a",
  ο: "o",
  ρ: "p",
  ν: "v",
  τ: "t",
  υ: "u",
  ι: "i",
  κ: "k",
  χ: "x",
  ε: "e",
  Α: "A",
  Β: "B",
  Ε: "E",
  Ζ: "Z",
  Η: "H",
  Ι: "I",
  Κ: "K",
  Μ: "M",
  Ν: "N",
  Ο: "O",
  Ρ: "P",
  Τ: "T",
  Υ: "Y",
  Χ: "X",
};

const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join("")}]`, "g");

function normaliseRun(run: string): string {
  return run
    .normalize("NFKC")
    .replace(INVISIBLE, "")
    .replace(CONFUSABLE, (char) => CONFUSABLES[char] ?? char);
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]+/g;

/**
 * `text` normalised for matching (where it is not ASCII, with context around: see
 * replacedAround); the same string when it is all ASCII or nothing changes.
 */
export function normaliseUnicode(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\u0000-\u007f]/.test(text)) return text;
  let changed = false;
  for (const match of text.matchAll(NON_ASCII)) {
    if (normaliseRun(match[0]) !== match[0]) {
      changed = true;
      break;
    }
  }
  return changed ? replacedAround(text, NON_ASCII, normaliseRun) : text;
}
