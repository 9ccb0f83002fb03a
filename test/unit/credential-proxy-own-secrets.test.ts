// The credential proxy never forwards the bottle's own secrets: another route's token, a git
// token or key line, or the route's own token (the agent never holds it), in the encodings an
// agent would try, in the body, a header value or name, the path or the query. The upstream is a
// local server that counts what reaches it. Fake tokens, built from pieces.
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { after, before, describe, it } from "node:test";
import zlib from "node:zlib";
import type { CredentialAuditEntry } from "../../src/sidecar/credentials/credential-proxy.js";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import { OwnSecretMatcher } from "../../src/sidecar/credentials/own-secret-matcher.js";

const ROUTE_TOKEN = ["fake", "anthropic", "route", "0123456789abcdef"].join("-");
const OTHER_TOKEN = ["ghp", "FAKEotherroute0123456789abcdefXYZ"].join("_");
const GIT_TOKEN = ["glpat", "FAKEgittoken0123456789"].join("-");
const KEY_LINE = [
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQ",
].join("");

function variants(secret: string): Record<string, string> {
  const b = Buffer.from(secret);
  return {
    raw: secret,
    upper: secret.toUpperCase(),
    lower: secret.toLowerCase(),
    percent: [...b].map((c) => `%${c.toString(16).padStart(2, "0")}`).join(""),
    hex: b.toString("hex"),
    HEX: b.toString("hex").toUpperCase(),
    base64: b.toString("base64"),
    "base64+1": Buffer.concat([Buffer.from("x"), b]).toString("base64"),
    "base64+2": Buffer.concat([Buffer.from("xy"), b]).toString("base64"),
    base64url: Buffer.concat([Buffer.from("?"), b]).toString("base64url"),
  };
}

describe("own secret matcher (pure)", () => {
  const matcher = new OwnSecretMatcher([ROUTE_TOKEN, OTHER_TOKEN, GIT_TOKEN, KEY_LINE]);
  for (const secret of [ROUTE_TOKEN, OTHER_TOKEN, GIT_TOKEN, KEY_LINE])
    for (const [name, form] of Object.entries(variants(secret)))
      it(`finds ${secret.slice(0, 5)}… as ${name} inside a body`, () => {
        assert.ok(matcher.foundIn(`{"messages":[{"content":"see ${form} here"}]}`));
      });
  it("passes ordinary traffic and near misses", () => {
    for (const text of [
      '{"model":"claude","messages":[{"role":"user","content":"hello"}]}',
      ROUTE_TOKEN.slice(0, -1),
      OTHER_TOKEN.slice(1),
      "ghp_ is GitHub's prefix; glpat- is GitLab's",
      Buffer.from("an ordinary sentence, encoded").toString("base64"),
    ])
      assert.equal(matcher.foundIn(text), false, text);
  });
  it("ignores values too short to be told from ordinary text", () => {
    assert.equal(new OwnSecretMatcher(["abc"]).foundIn("abc"), false);
  });
});

interface Sent {
  status: number;
  body: string;
}

function send(
  port: number,
  options: { path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: options.path ?? "/anthropic/v1/messages",
        headers: { "content-type": "application/json", ...options.headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body ?? "{}");
  });
}

describe("credential proxy refuses requests carrying own secrets", () => {
  const seen: string[] = [];
  const audit: CredentialAuditEntry[] = [];
  let upstream: http.Server;
  let proxy: CredentialProxy;
  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push(body);
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const port = (upstream.address() as net.AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    proxy = new CredentialProxy({
      routes: [
        { name: "anthropic", path: "/anthropic", upstream: base, role: null, inject: "x-api-key" },
        { name: "gh", path: "/gh", upstream: base, role: null, inject: "bearer" },
      ],
      audit: (entry) => audit.push(entry),
    });
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    proxy.setTokens({ anthropic: ROUTE_TOKEN, gh: OTHER_TOKEN });
    proxy.setOwnSecrets([GIT_TOKEN, KEY_LINE]);
  });
  after(async () => {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => {
      upstream.close(() => {
        resolve();
      });
    });
  });

  it("refuses a gzip or deflate body sent without Content-Encoding that holds one", async () => {
    const text = JSON.stringify({ messages: [{ role: "user", content: `x ${GIT_TOKEN} y` }] });
    for (const [name, packed] of [
      ["gzip", zlib.gzipSync(text)],
      ["zlib", zlib.deflateSync(text)],
      ["raw deflate", zlib.deflateRawSync(text)],
      ["gzip in gzip", zlib.gzipSync(zlib.gzipSync(text))],
    ] as const) {
      const answer = await send(proxy.address(), { body: packed });
      assert.equal(answer.status, 403, `${name}: ${answer.status}`);
    }
    assert.deepEqual(seen, []);
  });

  it("refuses each secret in each encoding in the body, with 403 and nothing sent", async () => {
    for (const secret of [ROUTE_TOKEN, OTHER_TOKEN, GIT_TOKEN, KEY_LINE])
      for (const [name, form] of Object.entries(variants(secret))) {
        const answer = await send(proxy.address(), {
          body: JSON.stringify({ messages: [{ role: "user", content: `x ${form} y` }] }),
        });
        assert.equal(answer.status, 403, `${secret.slice(0, 5)} as ${name}: ${answer.status}`);
        assert.equal((JSON.parse(answer.body) as { type: string }).type, "error");
      }
    assert.deepEqual(seen, []);
  });

  it("refuses them in a header value, a header name, the path and the query", async () => {
    const port = proxy.address();
    const hex = Buffer.from(OTHER_TOKEN).toString("hex");
    for (const options of [
      { headers: { "x-note": OTHER_TOKEN } },
      { headers: { [`x-${hex}`]: "1" } },
      { path: `/anthropic/v1/${encodeURIComponent(GIT_TOKEN)}` },
      { path: `/anthropic/v1/messages?k=${Buffer.from(ROUTE_TOKEN).toString("base64")}` },
    ])
      assert.equal((await send(port, options)).status, 403, JSON.stringify(options));
    assert.deepEqual(seen, []);
  });

  it("writes no secret to the audit, and still forwards an ordinary request", async () => {
    const answer = await send(proxy.address(), { body: '{"messages":[]}' });
    assert.equal(answer.status, 200);
    assert.deepEqual(seen, ['{"messages":[]}']);
    const written = JSON.stringify(audit);
    for (const secret of [ROUTE_TOKEN, OTHER_TOKEN, GIT_TOKEN, KEY_LINE])
      assert.equal(new OwnSecretMatcher([secret]).foundIn(written), false);
    assert.ok(audit.some((e) => e.status === 403 && e.path === "[held by bot-bottle]"));
  });
});
