/**
 * Leaf certificates for intercepted TLS: one per host name (or IP), signed by the bottle's CA,
 * made on first use and cached (at most MAX_CACHED hosts, oldest dropped first). All leaves share
 * one P-256 key made when the cache is created; the CA key stays in this process.
 *
 * `secureContext(host)` gives a TLS context serving that host's leaf with the CA as its chain.
 * Concurrent calls for the same host share one signing.
 */
import { isIP } from "node:net";
import type { webcrypto } from "node:crypto";
import tls from "node:tls";
import type { BottleCa } from "../../core/tls/bottle-ca.js";
import type { X509 } from "../../core/tls/x509.js";
import { ECDSA_P256, loadX509 } from "../../core/tls/x509.js";

const MAX_CACHED = 1000;
const DAY_MS = 24 * 3600 * 1000;

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

function keyPem(der: ArrayBuffer): string {
  const body = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN PRIVATE KEY-----\n${body.replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;
}

interface Signer {
  x509: X509;
  caCert: InstanceType<X509["X509Certificate"]>;
  caKey: webcrypto.CryptoKey;
  leafKeys: webcrypto.CryptoKeyPair;
  leafKeyPem: string;
}

export class LeafCertificates {
  private readonly cache = new Map<string, Promise<tls.SecureContext>>();
  private signer: Promise<Signer> | undefined;

  constructor(private readonly ca: BottleCa) {}

  private loadSigner(): Promise<Signer> {
    this.signer ??= (async () => {
      const x509 = await loadX509();
      const caCert = new x509.X509Certificate(this.ca.certPem);
      const caKey = await crypto.subtle.importKey(
        "pkcs8",
        pemBody(this.ca.keyPem),
        ECDSA_P256,
        false,
        ["sign"],
      );
      const leafKeys = await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
      const leafKeyPem = keyPem(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
      return { x509, caCert, caKey, leafKeys, leafKeyPem };
    })();
    return this.signer;
  }

  /** A TLS context for `host` (a name or IP literal, lower-case). */
  secureContext(host: string): Promise<tls.SecureContext> {
    const cached = this.cache.get(host);
    if (cached !== undefined) {
      // Refresh its place: the oldest-used entry is the one dropped.
      this.cache.delete(host);
      this.cache.set(host, cached);
      return cached;
    }
    const made = this.issue(host);
    made.catch(() => this.cache.delete(host));
    this.cache.set(host, made);
    if (this.cache.size > MAX_CACHED) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return made;
  }

  private async issue(host: string): Promise<tls.SecureContext> {
    const { key, cert } = await this.issuePem(host);
    return tls.createSecureContext({ key, cert });
  }

  /** A fresh leaf for `host` as PEM: its key, and its certificate followed by the CA's. */
  async issuePem(host: string): Promise<{ key: string; cert: string }> {
    const { x509, caCert, caKey, leafKeys, leafKeyPem } = await this.loadSigner();
    const now = Date.now();
    const altName =
      isIP(host) === 0
        ? { type: "dns" as const, value: host }
        : { type: "ip" as const, value: host };
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
        .toString("hex")
        .replace(/^[89a-f]/, "1"),
      subject: `CN=${host.length <= 64 ? host : "bot-bottle intercepted host"}`,
      // The CA's subject as encoded, byte for byte: GnuTLS (git's TLS) compares names raw.
      issuer: caCert.subjectName,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 30 * DAY_MS),
      signingAlgorithm: ECDSA_P256,
      publicKey: leafKeys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([altName]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    return { key: leafKeyPem, cert: `${leaf.toString("pem")}\n${this.ca.certPem}` };
  }
}
