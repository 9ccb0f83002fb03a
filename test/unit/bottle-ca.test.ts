// The bottle CA: a valid self-signed P-256 CA certificate, made once and kept (key mode 0600).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { caFiles, createBottleCa, ensureBottleCa } from "../../src/core/tls/bottle-ca.js";
import { loadX509 } from "../../src/core/tls/x509.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";

describe("bottle CA", () => {
  it("is a self-signed CA certificate for a P-256 key that matches it", async () => {
    const ca = await createBottleCa("dev-k3x9q2");
    const cert = new crypto.X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /CN=bot-bottle dev-k3x9q2 CA/);
    assert.equal(cert.issuer, cert.subject);
    assert.ok(cert.verify(cert.publicKey), "the signature holds");
    assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(ca.keyPem)));
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    assert.ok(new Date(cert.validTo).getTime() > Date.now() + 5 * 365 * 24 * 3600 * 1000);
  });

  it("is made at the first start and kept: the same CA on resume, its key 0600", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-ca-"));
    try {
      const first = await ensureBottleCa(dir, "dev-k3x9q2");
      const again = await ensureBottleCa(dir, "dev-k3x9q2");
      assert.equal(again.certPem, first.certPem);
      assert.equal(fs.statSync(caFiles(dir).key).mode & 0o777, 0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("signs leaves that name it byte for byte (GnuTLS, git's TLS, compares names raw)", async () => {
    const ca = await createBottleCa("dev-k3x9q2");
    const leaf = await new LeafCertificates(ca).issuePem("api.example.test");
    const leafPem = `${leaf.cert.split("-----END CERTIFICATE-----")[0] ?? ""}-----END CERTIFICATE-----\n`;
    const caCert = new crypto.X509Certificate(ca.certPem);
    const leafCert = new crypto.X509Certificate(leafPem);
    assert.ok(leafCert.checkIssued(caCert));
    assert.ok(leafCert.verify(caCert.publicKey));
    assert.equal(leafCert.checkHost("api.example.test"), "api.example.test");
    const x509 = await loadX509();
    const issuer = new x509.X509Certificate(leafPem).issuerName.toArrayBuffer();
    const subject = new x509.X509Certificate(ca.certPem).subjectName.toArrayBuffer();
    assert.ok(Buffer.from(issuer).equals(Buffer.from(subject)));
  });
});
