/**
 * Payment card numbers, PURE: the Luhn check digit and the issuers' number ranges and lengths.
 * Both must hold, so a random run of digits is taken for a card about one time in a few hundred.
 */

/** True when the digits' Luhn sum is a multiple of 10. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (digit < 0 || digit > 9) return false;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Issuer ranges (leading digits) and the lengths their cards have. */
const ISSUERS: readonly { starts: RegExp; lengths: readonly number[] }[] = [
  { starts: /^4/, lengths: [13, 16, 19] }, // Visa
  { starts: /^(?:5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/, lengths: [16] }, // Mastercard
  { starts: /^3[47]/, lengths: [15] }, // American Express
  { starts: /^(?:6011|65|64[4-9]|622)/, lengths: [16, 17, 18, 19] }, // Discover
  { starts: /^35(?:2[89]|[3-8])/, lengths: [16, 17, 18, 19] }, // JCB
  { starts: /^3(?:0[0-5]|[68]|095)/, lengths: [14, 15, 16, 17, 18, 19] }, // Diners Club
  {
    starts: /^(?:5018|5020|5038|5893|6304|6759|676[1-3])/,
    lengths: [12, 13, 14, 15, 16, 17, 18, 19],
  }, // Maestro
  { starts: /^62/, lengths: [16, 17, 18, 19] }, // UnionPay
  { starts: /^220[0-4]/, lengths: [16] }, // Mir
];

/** True when `digits` (digits only) is a card number: an issuer's range and length, and Luhn. */
export function isCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  const issuer = ISSUERS.some(
    (entry) => entry.starts.test(digits) && entry.lengths.includes(digits.length),
  );
  return issuer && luhnValid(digits);
}
