/**
 * Financial data, PURE, each confirmed by its checksum so that numbers and words of ordinary
 * text do not match: payment card numbers (issuer range, length, Luhn), IBANs (country length,
 * mod 97), Bitcoin addresses (Base58Check, Bech32/Bech32m), private keys (WIF, BIP-32 extended
 * private keys, Ethereum keys named as private), and BIP-39 seed phrases (wordlist and checksum).
 */
import { isBase58Check } from "../base58check.js";
import { isBech32 } from "../bech32.js";
import { holdsSeedPhrase } from "../bip39.js";
import { charClass } from "../char-runs.js";
import { isIban } from "../iban.js";
import { isCardNumber } from "../luhn.js";
import { type SecretPattern, caseless, prefixed, regex, run } from "./detector.js";

const BASE58 = "[1-9A-HJ-NP-Za-km-z]";

/** Letters and the blanks between words: a seed phrase is a run of them. */
const PHRASE_CHARS = charClass("abcdefghijklmnopqrstuvwxyz \t\r\n,");
/** Twelve words of at least three letters, and the blanks between them. */
const SHORTEST_PHRASE = 12 * 3 + 11;

function cardNumber(match: RegExpMatchArray): boolean {
  return isCardNumber(match[0].replace(/[ -]/g, ""));
}

function iban(match: RegExpMatchArray): boolean {
  const compact = match[0].replace(/ /g, "");
  // The last group may have run into the next word: the country's length is what counts.
  for (let end = compact.length; end >= 15; end -= 1) {
    if (isIban(compact.slice(0, end))) return true;
  }
  return false;
}

export const FINANCIAL_PATTERNS: readonly SecretPattern[] = [
  regex(
    "card-number",
    /(?<![\w.+-])(?:\d{13,19}|\d{4}([ -])\d{4,6}\1\d{4,5}(?:\1\d{1,4}){0,2})(?![\w.]|[ -]\d)/,
    cardNumber,
  ),
  regex("iban", /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/, iban),
  regex(
    "bitcoin-address",
    new RegExp(`(?<![A-Za-z0-9])[13]${BASE58}{25,34}(?![A-Za-z0-9])`),
    (match) => isBase58Check(match[0]),
  ),
  prefixed(
    "bitcoin-address",
    /bc1|tb1|ltc1|BC1|TB1|LTC1/,
    /\b(?:(?:bc|tb|ltc)1[ac-hj-np-z02-9]{11,87}|(?:BC|TB|LTC)1[AC-HJ-NP-Z02-9]{11,87})\b/,
    (match) => isBech32(match[0]),
  ),
  regex(
    "bitcoin-private-key",
    new RegExp(`(?<![A-Za-z0-9])[5KLc9]${BASE58}{50,51}(?![A-Za-z0-9])`),
    (match) => isBase58Check(match[0]),
  ),
  prefixed(
    "bip32-private-key",
    /[xyztuvYZUV]prv/,
    new RegExp(`\\b[xyztuvYZUV]prv${BASE58}{100,108}\\b`),
    (match) => isBase58Check(match[0]),
  ),
  prefixed(
    "ethereum-private-key",
    new RegExp(caseless("priv")),
    /priv[^\n]{0,40}?(?<![0-9a-f])(?:0x)?[0-9a-f]{64}(?![0-9a-f])/i,
  ),
  run("bip39-seed-phrase", PHRASE_CHARS, { min: SHORTEST_PHRASE, max: Infinity }, (text) =>
    holdsSeedPhrase(text.split(/[\s,]+/)),
  ),
];
