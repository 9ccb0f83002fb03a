/**
 * Financial data, PURE, each confirmed by its checksum so that numbers and words of ordinary
 * text do not match: payment card numbers (issuer range, length, Luhn), IBANs (country length,
 * mod 97), Bitcoin addresses (Base58Check, Bech32/Bech32m), private keys (WIF, BIP-32 extended
 * private keys, Ethereum keys named as private), and BIP-39 seed phrases (wordlist and checksum).
 * Each is looked for only where a run of its characters is long enough (digits for cards,
 * base58 for keys), found by skipping (char-runs.ts).
 */
import { isBase58Check } from "../base58check.js";
import { isBech32 } from "../bech32.js";
import { holdsSeedPhrase } from "../bip39.js";
import { charClass, someRun } from "../char-runs.js";
import { isIban } from "../iban.js";
import { isCardNumber } from "../luhn.js";
import { type SecretPattern, START, custom, prefixed, run } from "./detector.js";

const BASE58 = "[1-9A-HJ-NP-Za-km-z]";
const ALNUM = charClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
const DIGITS = charClass("0123456789");
const UPPER_DIGITS = charClass("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
const HEX = charClass("0123456789abcdefABCDEF");

/** Letters and the blanks between words: a seed phrase is a run of them. */
const PHRASE_CHARS = charClass("abcdefghijklmnopqrstuvwxyz \t\r\n,");
/** Twelve words of at least three letters, and the blanks between them. */
const SHORTEST_PHRASE = 12 * 3 + 11;

/** The first match of sticky `pattern` at `at` (loose: with nothing before it read). */
function stickyMatch(
  pattern: RegExp,
  text: string,
  at: number,
  loose: boolean,
): RegExpExecArray | null {
  pattern.lastIndex = loose ? 0 : at;
  return pattern.exec(loose ? text.slice(at, at + 64) : text);
}

const CARD =
  /(?<![\w.+-])(?:\d{13,19}|\d{4}([ -])\d{4,6}\1\d{4,5}(?:\1\d{1,4}){0,2})(?![\w.]|[ -]\d)/y;

/** Card numbers, spaced or not, where a run of four digits or more starts. */
function cardNumber(text: string, loose: boolean): boolean {
  return someRun(text, DIGITS, 4, (start, end) => {
    // 13 digits or more, or a first group of four followed by a separator and a digit.
    const spaced = end - start === 4 && /^[ -]\d/.test(text.slice(end, end + 2));
    if (end - start < 13 && !spaced) return false;
    const match = stickyMatch(CARD, text, start, loose);
    return match !== null && isCardNumber(match[0].replace(/[ -]/g, ""));
  });
}

const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/y;

/** IBANs, compact or in groups of four, where a run of capitals and digits starts. */
function iban(text: string, loose: boolean): boolean {
  return someRun(text, UPPER_DIGITS, 4, (start) => {
    const [a, b, c, d] = [0, 1, 2, 3].map((i) => text.charCodeAt(start + i));
    if (!isUpper(a) || !isUpper(b) || !isDigit(c) || !isDigit(d)) return false;
    const match = stickyMatch(IBAN, text, start, loose);
    if (match === null) return false;
    const compact = match[0].replace(/ /g, "");
    // The last group may have run into the next word: the country's length is what counts.
    for (let end = compact.length; end >= 15; end -= 1) {
      if (isIban(compact.slice(0, end))) return true;
    }
    return false;
  });
}

function isUpper(code: number | undefined): boolean {
  return code !== undefined && code >= 65 && code <= 90;
}

function isDigit(code: number | undefined): boolean {
  return code !== undefined && code >= 48 && code <= 57;
}

const ETHEREUM = /priv[^\n]{0,40}?(?<![0-9a-f])(?:0x)?[0-9a-f]{64}(?![0-9a-f])/i;

/** A 64-hex-digit key with `priv` (private, priv_key) named before it on its line. */
function ethereumKey(text: string): boolean {
  return someRun(
    text,
    HEX,
    64,
    (start, end) =>
      end - start === 64 && ETHEREUM.test(text.slice(Math.max(0, start - 48), end + 1)),
  );
}

/** Twelve words of three to eight letters in a row: what a seed phrase needs at the least. */
const TWELVE_WORDS = /(?:[a-z]{3,8}[\s,]+){11}[a-z]{3,8}/;

const isBase58 = (text: string): boolean => new RegExp(`^${BASE58}+$`).test(text);

export const FINANCIAL_PATTERNS: readonly SecretPattern[] = [
  custom("card-number", cardNumber),
  custom("iban", iban),
  run(
    "bitcoin-address",
    ALNUM,
    { min: 26, max: 35 },
    (match) => /^[13]/.test(match) && isBase58(match) && isBase58Check(match),
  ),
  prefixed(
    "bitcoin-address",
    ["bc1", "tb1", "ltc1"],
    new RegExp(
      `${START}(?:(?:bc|tb|ltc)1[ac-hj-np-z02-9]{11,87}|(?:BC|TB|LTC)1[AC-HJ-NP-Z02-9]{11,87})(?![A-Za-z0-9])`,
    ),
    (match) => isBech32(match[0]),
    { caseless: true },
  ),
  run(
    "bitcoin-private-key",
    ALNUM,
    { min: 51, max: 52 },
    (match) => /^[5KLc9]/.test(match) && isBase58(match) && isBase58Check(match),
  ),
  prefixed(
    "bip32-private-key",
    ["xprv", "yprv", "zprv", "tprv", "uprv", "vprv", "Yprv", "Zprv", "Uprv", "Vprv"],
    new RegExp(`[xyztuvYZUV]prv${BASE58}{100,108}(?![A-Za-z0-9])`),
    (match) => isBase58Check(match[0]),
  ),
  custom("ethereum-private-key", ethereumKey),
  run(
    "bip39-seed-phrase",
    PHRASE_CHARS,
    { min: SHORTEST_PHRASE, max: Infinity },
    (text) => TWELVE_WORDS.test(text) && holdsSeedPhrase(text.split(/[\s,]+/)),
  ),
];
