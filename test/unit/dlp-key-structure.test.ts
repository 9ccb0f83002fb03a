/**
 * Private keys without their PEM armour are found by structure (key-structure.ts), in every
 * encoding the decoders undo; public keys and certificates, which are DER too, are not.
 * Fresh throwaway keys only.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { ensureBottleCa, caFiles } from "../../src/core/tls/bottle-ca.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { privateKeyStart } from "../../src/sidecar/dlp/key-structure.js";

const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-384" });
const ed = crypto.generateKeyPairSync("ed25519");
const dsa = crypto.generateKeyPairSync("dsa", { modulusLength: 1024, divisorLength: 160 });

function found(body: string): boolean {
  return (
    new DlpInspector({ ownSecrets: [] }).inspectRequest({
      method: "POST",
      host: "api.example.test",
      path: "/",
      headers: {},
      body: Buffer.from(body, "latin1"),
    }).length > 0
  );
}

describe("private keys by structure", () => {
  const privates: [string, Buffer][] = [
    ["RSA PKCS#1", rsa.privateKey.export({ type: "pkcs1", format: "der" })],
    ["RSA PKCS#8", rsa.privateKey.export({ type: "pkcs8", format: "der" })],
    ["EC P-384 SEC1", ec.privateKey.export({ type: "sec1", format: "der" })],
    ["Ed25519 PKCS#8", ed.privateKey.export({ type: "pkcs8", format: "der" })],
    ["DSA PKCS#8", dsa.privateKey.export({ type: "pkcs8", format: "der" })],
    [
      "RSA PKCS#8 encrypted",
      rsa.privateKey.export({
        type: "pkcs8",
        format: "der",
        cipher: "aes-128-cbc",
        passphrase: "fake",
      }),
    ],
  ];
  for (const [name, der] of privates) {
    it(`${name}: found as bytes, base64, base32-free hex, glued after garbage`, () => {
      assert.equal(privateKeyStart(der), 0);
      assert.ok(found(der.toString("base64")), "base64");
      assert.ok(found(`"${der.toString("base64url")}"`), "base64url");
      assert.ok(found(der.toString("hex").toUpperCase()), "hex");
      assert.ok(found(`xq${der.toString("base64")}`), "glued after two letters");
    });
  }

  it("public keys and certificates are not keys", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keys-"));
    try {
      await ensureBottleCa(dir, "box-keys");
      const cert = fs
        .readFileSync(caFiles(dir).cert, "utf8")
        .replace(/-----[^-]+-----/g, "")
        .replace(/\s/g, "");
      const publics: [string, Buffer][] = [
        ["RSA SPKI", rsa.publicKey.export({ type: "spki", format: "der" })],
        ["RSA PKCS#1 public", rsa.publicKey.export({ type: "pkcs1", format: "der" })],
        ["EC SPKI", ec.publicKey.export({ type: "spki", format: "der" })],
        ["Ed25519 SPKI", ed.publicKey.export({ type: "spki", format: "der" })],
        ["X.509 certificate", Buffer.from(cert, "base64")],
      ];
      for (const [name, der] of publics) {
        assert.equal(privateKeyStart(der), -1, name);
        assert.equal(found(der.toString("base64")), false, `${name} in base64`);
        assert.equal(found(der.toString("hex")), false, `${name} in hex`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
