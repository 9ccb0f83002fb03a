/**
 * A bottle's certificate authority: an ECDSA P-256 key and a self-signed CA certificate, made at
 * the bottle's first start and kept in its state folder (`ca/ca.key` mode 0600, `ca/ca.crt`).
 * The sidecar signs leaf certificates with it to open the agent's TLS; the agent only ever gets
 * the certificate, never the key. A resumed bottle keeps its CA, so the agent's trust still holds.
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import {
  bitString,
  boolean,
  explicit,
  integer,
  octetString,
  oid,
  sequence,
  set,
  time,
  tlv,
  utf8String,
} from "./der.js";

export interface CaFiles {
  cert: string;
  key: string;
}

export interface BottleCa {
  certPem: string;
  keyPem: string;
}

export function caFiles(stateDir: string): CaFiles {
  return { cert: path.join(stateDir, "ca", "ca.crt"), key: path.join(stateDir, "ca", "ca.key") };
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid("2.5.4.3"), utf8String(commonName))),
    set(sequence(oid("2.5.4.10"), utf8String("bot-bottle"))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** Makes a new CA named after the bottle: a P-256 key and a self-signed certificate. */
export function createBottleCa(identity: string): Promise<BottleCa> {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  // The key identifier: SHA-1 of the public key's bits (RFC 5280, 4.2.1.2, method 1).
  const keyBits = spki.subarray(spki.length - 65);
  const keyId = crypto.createHash("sha1").update(keyBits).digest();
  const now = Date.now();
  const subject = name(`bot-bottle ${identity} CA`);
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(crypto.randomBytes(16)),
    ECDSA_WITH_SHA256,
    subject,
    sequence(time(new Date(now - 3600_000)), time(new Date(now + TEN_YEARS_MS))),
    subject,
    spki,
    explicit(
      3,
      sequence(
        // Basic constraints: a CA that signs leaves only (path length 0).
        extension("2.5.29.19", true, sequence(boolean(true), integer(Buffer.from([0])))),
        // Key usage: keyCertSign and cRLSign (bits 5 and 6).
        extension("2.5.29.15", true, tlv(0x03, Buffer.from([1, 0x06]))),
        extension("2.5.29.14", false, octetString(keyId)),
      ),
    ),
  );
  const signature = crypto.sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const body = der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return Promise.resolve({
    certPem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  });
}

/** Reads the bottle's CA, or makes and stores one at its first start. */
export async function ensureBottleCa(stateDir: string, identity: string): Promise<BottleCa> {
  const files = caFiles(stateDir);
  if (fs.existsSync(files.cert) && fs.existsSync(files.key)) {
    return {
      certPem: fs.readFileSync(files.cert, "utf8"),
      keyPem: fs.readFileSync(files.key, "utf8"),
    };
  }
  const ca = await createBottleCa(identity);
  fs.mkdirSync(path.dirname(files.key), { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.key, ca.keyPem, { mode: 0o600 });
  fs.writeFileSync(files.cert, ca.certPem, { mode: 0o644 });
  return ca;
}
