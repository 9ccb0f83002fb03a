/**
 * A bottle's certificate authority: an ECDSA P-256 key and a self-signed CA certificate, made at
 * the bottle's first start and kept in its state folder (`ca/ca.key` mode 0600, `ca/ca.crt`).
 * The sidecar signs leaf certificates with it to open the agent's TLS; the agent only ever gets
 * the certificate, never the key. A resumed bottle keeps its CA, so the agent's trust still holds.
 */
import fs from "node:fs";
import path from "node:path";
import { ECDSA_P256, loadX509 } from "./x509.js";

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

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${body.replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

/** Makes a new CA named after the bottle. */
export async function createBottleCa(identity: string): Promise<BottleCa> {
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex"),
    name: `CN=bot-bottle ${identity} CA, O=bot-bottle`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const key = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem") + "\n", keyPem: pem("PRIVATE KEY", key) };
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
