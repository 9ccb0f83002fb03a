/**
 * Private keys and signed tokens that name no service, PURE: PEM private keys of every kind (RSA,
 * EC, DSA, PKCS#8, encrypted, OpenSSH, PGP), PuTTY key files, and JSON Web Tokens (three base64url
 * parts whose first decodes to a JSON header naming an algorithm).
 */
import { type SecretPattern, prefixed } from "./detector.js";

function jwtHeader(match: RegExpMatchArray): boolean {
  const head = match[0].split(".")[0] ?? "";
  return /"alg"\s*:/.test(Buffer.from(head, "base64url").toString("utf8"));
}

export const KEY_PATTERNS: readonly SecretPattern[] = [
  prefixed("private-key", ["-----BEGIN "], /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/),
  prefixed("private-key", ["PuTTY-User-Key-File-"], /PuTTY-User-Key-File-\d: /),
  prefixed(
    "jwt",
    ["eyJ"],
    /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/,
    jwtHeader,
  ),
];
