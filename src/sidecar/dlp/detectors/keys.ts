/**
 * Private keys and signed tokens that name no service, PURE: PEM private keys of every kind (RSA,
 * EC, DSA, PKCS#8, encrypted, OpenSSH, PGP) with their key material, PuTTY key files, and JSON Web
 * Tokens (three base64url parts whose first decodes to a JSON header naming an algorithm). A key
 * body without its armour (base64, hex, ... of the DER or OpenSSH container) is recognised by its
 * structure when decoded (../key-structure.ts) and read as PEM, which the first pattern finds.
 */
import { type SecretPattern, prefixed } from "./detector.js";

function jwtHeader(match: RegExpMatchArray): boolean {
  const head = match[0].split(".")[0] ?? "";
  return /"alg"\s*:/.test(Buffer.from(head, "base64url").toString("utf8"));
}

export const KEY_PATTERNS: readonly SecretPattern[] = [
  // The header and key material after it (header lines of an encrypted key allowed; newlines as
  // they are or escaped): code that writes a header around a variable is no key.
  prefixed(
    "private-key",
    ["-----BEGIN "],
    /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[rn])+(?:[A-Za-z-]+: [^\n\\]*(?:\s|\\[rn])+)*[A-Za-z0-9+/=]{40}/,
  ),
  prefixed("private-key", ["PuTTY-User-Key-File-"], /PuTTY-User-Key-File-\d: /),
  prefixed(
    "jwt",
    ["eyJ"],
    /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/,
    jwtHeader,
  ),
];
