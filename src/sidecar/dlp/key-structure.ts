/**
 * Private keys found by their STRUCTURE in decoded bytes, PURE: the body of a key file without
 * its PEM armour (base64, base64url, base32 or hex of the DER, wrapped or not, or the raw bytes)
 * is a key all the same. Read from bytes, not from a list of base64 prefixes, so every encoding
 * the decoders undo is covered at once:
 *
 *   PKCS#1 (RSA, DSA)   SEQUENCE { INTEGER 0, INTEGER (long: the modulus or p), ... }
 *   SEC1 (EC)           SEQUENCE { INTEGER 1, OCTET STRING (the 24 to 66 byte private key), ... }
 *   PKCS#8              SEQUENCE { INTEGER 0|1, SEQUENCE { OID, ... }, OCTET STRING, ... }
 *   PKCS#8 encrypted    SEQUENCE { SEQUENCE { OID pkcs-5 or pkcs-12 PBE, ... }, OCTET STRING }
 *   PKCS#12             SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs-7 data, ... }, ... }
 *   OpenSSH             "openssh-key-v1\0", then the cipher's name as an SSH string
 *
 * Public keys and certificates have none of these shapes (a certificate's first element is a
 * SEQUENCE, an SPKI's an AlgorithmIdentifier without a version, a PKCS#1 public key's the modulus
 * without one). A key found is given back as the PEM text it is, which the private-key detector
 * (detectors/keys.ts) reads like any other.
 */

/** How far into a reading a key may start (glued garbage of a misaligned decoding). */
const LEAD = 8;
/** The fewest bytes of a key read (an Ed25519 PKCS#8 key is 48). */
const MIN_KEY = 40;
const OPENSSH = Buffer.from("openssh-key-v1\0", "latin1");
/** 1.2.840.113549.1 (PKCS), the prefix of the PBE and pkcs-7 OIDs below. */
const PKCS = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01];

/** A DER length at `at`: the value's length and where it starts, or null. */
function derLength(bytes: Uint8Array, at: number): { length: number; next: number } | null {
  const first = bytes[at];
  if (first === undefined) return null;
  if (first < 0x80) return { length: first, next: at + 1 };
  const count = first & 0x7f;
  if (count === 0 || count > 3) return null;
  let length = 0;
  for (let i = 1; i <= count; i += 1) {
    const byte = bytes[at + i];
    if (byte === undefined) return null;
    length = length * 256 + byte;
  }
  return { length, next: at + 1 + count };
}

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  return expected.every((byte, i) => bytes[at + i] === byte);
}

/** The PKCS OID (`06 09 2a 86 48 86 f7 0d 01 <arc>`) with its next arc one of `arcs`, at `at`. */
function pkcsOid(bytes: Uint8Array, at: number, arcs: readonly number[]): boolean {
  return (
    bytes[at] === 0x06 &&
    startsWith(bytes, at + 2, PKCS) &&
    arcs.includes(bytes[at + 2 + PKCS.length] ?? -1)
  );
}

/** True when a DER private key container starts at `at`. */
function derKeyAt(bytes: Uint8Array, at: number): boolean {
  if (bytes[at] !== 0x30) return false;
  const outer = derLength(bytes, at + 1);
  if (outer === null || outer.length < MIN_KEY - 4) return false;
  const p = outer.next;
  const b = (i: number): number => bytes[p + i] ?? -1;
  // INTEGER version, one byte.
  if (b(0) === 0x02 && b(1) === 0x01) {
    const version = b(2);
    // PKCS#1: version 0, then a long INTEGER.
    if (version === 0 && b(3) === 0x02 && b(4) >= 0x81 && b(4) <= 0x83) return true;
    // SEC1: version 1, then the private key as an OCTET STRING.
    if (version === 1 && b(3) === 0x04 && b(4) >= 24 && b(4) <= 66) return true;
    // PKCS#8 (v1 or v2): an AlgorithmIdentifier { OID, ... }, then the key as an OCTET STRING.
    if ((version === 0 || version === 1) && b(3) === 0x30) {
      const algorithm = derLength(bytes, p + 4);
      if (
        algorithm !== null &&
        bytes[algorithm.next] === 0x06 &&
        bytes[algorithm.next + algorithm.length] === 0x04
      )
        return true;
    }
    // PKCS#12: version 3, then the authenticated safe as pkcs-7 data.
    if (version === 3 && b(3) === 0x30) {
      const inner = derLength(bytes, p + 4);
      if (inner !== null && pkcsOid(bytes, inner.next, [0x07])) return true;
    }
    return false;
  }
  // Encrypted PKCS#8: an AlgorithmIdentifier naming a password-based scheme, then the key.
  if (b(0) === 0x30) {
    const algorithm = derLength(bytes, p + 1);
    return algorithm !== null && pkcsOid(bytes, algorithm.next, [0x05, 0x0c]);
  }
  return false;
}

/** True when OpenSSH's key container starts at `at`: its magic, then a short printable name. */
function opensshKeyAt(bytes: Uint8Array, at: number): boolean {
  if (!startsWith(bytes, at, [...OPENSSH])) return false;
  const p = at + OPENSSH.length;
  if (bytes[p] !== 0 || bytes[p + 1] !== 0 || bytes[p + 2] !== 0) return false;
  const length = bytes[p + 3] ?? 0;
  if (length === 0 || length > 32 || p + 4 + length > bytes.length) return false;
  for (let i = p + 4; i < p + 4 + length; i += 1) {
    const byte = bytes[i] ?? 0;
    if (byte < 0x21 || byte > 0x7e) return false;
  }
  return true;
}

/** Where a private key starts in the first LEAD bytes of `bytes[0..length)`, or -1. Cheap. */
export function privateKeyStart(bytes: Uint8Array, length = bytes.length): number {
  if (length < MIN_KEY) return -1;
  for (let at = 0; at < LEAD && at + MIN_KEY <= length; at += 1) {
    const byte = bytes[at];
    if (byte === 0x30 && derKeyAt(bytes, at)) return at;
    if (byte === 0x6f && opensshKeyAt(bytes, at)) return at;
  }
  return -1;
}

/** The PEM text of the private key `bytes` start with (within LEAD bytes), or null. */
export function privateKeyReading(bytes: Buffer): string | null {
  const at = privateKeyStart(bytes);
  if (at === -1) return null;
  const label = bytes[at] === 0x30 ? "PRIVATE KEY" : "OPENSSH PRIVATE KEY";
  const body = bytes.subarray(at).toString("base64");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
