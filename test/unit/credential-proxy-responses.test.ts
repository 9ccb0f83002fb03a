// The credential proxy keeps the bottle's own secrets out of what upstreams answer: a real
// upstream on loopback reflects a token raw, in upper case, in base64, gzip-compressed (with its
// Content-Encoding) and split across chunks sent apart, and no byte of it reaches the agent: the
// answer is cut where it would start. Ordinary answers (server-sent events, gzip JSON) pass,
// events without delay. Fake tokens, built from pieces.
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { after, before, describe, it } from "node:test";
import zlib from "node:zlib";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import { ResponseGuard, SecretForms } from "../../src/sidecar/credentials/response-guard.js";

const TOKEN = ["sk", "ant", "api03", "FAKEresponse0123456789abcdefGHIJKLmnop"].join("-");
const GIT = ["glpat", "FAKEgitreflect0123456789"].join("-");
const BEFORE = "reflected: ";

type Reply = (res: http.ServerResponse) => Promise<void> | void;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  status: number;
  body: Buffer;
  cut: boolean;
  /** Milliseconds from the request to each chunk's arrival. */
  times: number[];
}

function ask(port: number, path: string): Promise<Received> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const times: number[] = [];
    let status = 0;
    const done = (cut: boolean): void => {
      resolve({ status, body: Buffer.concat(chunks), cut, times });
    };
    const req = http.request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      status = res.statusCode ?? 0;
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        times.push(Date.now() - started);
      });
      res.on("end", () => {
        done(!res.complete);
      });
      res.on("aborted", () => {
        done(true);
      });
      res.on("error", () => {
        done(true);
      });
    });
    req.on("error", () => {
      done(true);
    });
    req.end();
  });
}

describe("credential proxy answers", () => {
  const replies = new Map<string, Reply>();
  let upstream: http.Server;
  let proxy: CredentialProxy;
  before(async () => {
    upstream = http.createServer((req, res) => {
      const reply = replies.get(decodeURIComponent((req.url ?? "").replace(/^\/v1/, "")));
      req.resume();
      if (reply === undefined) res.end("no such reply");
      else void reply(res);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}/v1`;
    proxy = new CredentialProxy({
      routes: [{ name: "api", path: "/api", upstream: base, role: null, inject: "x-api-key" }],
      audit: () => undefined,
    });
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    proxy.setTokens({ api: TOKEN });
    proxy.setOwnSecrets([GIT]);
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

  /** An upstream answer of `parts`, each written `gap` ms after the one before. */
  function chunked(parts: (string | Buffer)[], headers: http.OutgoingHttpHeaders = {}): Reply {
    return async (res) => {
      res.writeHead(200, { "content-type": "text/plain", ...headers });
      res.flushHeaders();
      for (const part of parts) {
        res.write(part);
        await wait(80);
      }
      res.end();
    };
  }

  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  const half = Math.ceil(TOKEN.length / 2);
  const reflections: Record<string, (string | Buffer)[]> = {
    raw: [BEFORE, TOKEN, " end"],
    "split across chunks": [`${BEFORE}${TOKEN.slice(0, half)}`, `${TOKEN.slice(half)} end`],
    "split in three": [
      `${BEFORE}${TOKEN.slice(0, 5)}`,
      TOKEN.slice(5, 30),
      `${TOKEN.slice(30)} end`,
    ],
    "upper case": [`${BEFORE}${TOKEN.toUpperCase()} end`],
    base64: [`${BEFORE}${b64(`x${TOKEN}`)} end`],
    "base64 split across chunks": [
      `${BEFORE}${b64(TOKEN).slice(0, 20)}`,
      `${b64(TOKEN).slice(20)} end`,
    ],
    "base64 of one half": [`${BEFORE}${b64(TOKEN.slice(half))} end`],
    hex: [`${BEFORE}${Buffer.from(TOKEN).toString("hex")} end`],
    "the git token": [`${BEFORE}${GIT.slice(0, 6)}`, `${GIT.slice(6)} end`],
  };

  for (const [name, parts] of Object.entries(reflections)) {
    it(`cuts an answer reflecting the token (${name}) before any byte of it`, async () => {
      replies.set(`/${name}`, chunked(parts));
      const got = await ask(proxy.address(), `/api/${encodeURIComponent(name)}`);
      assert.equal(got.cut, true, `${name}: the answer was not cut`);
      // What came before the token may have gone out (or been cut with it); nothing after.
      const text = got.body.toString("latin1");
      assert.ok(BEFORE.startsWith(text), `${name}: ${text}`);
    });
  }

  it("cuts a gzip answer (Content-Encoding) reflecting the token, split across chunks", async () => {
    const gz = zlib.gzipSync(Buffer.from(`${BEFORE}${TOKEN} end`));
    replies.set(
      "/gzip",
      chunked([gz.subarray(0, 30), gz.subarray(30)], { "content-encoding": "gzip" }),
    );
    const got = await ask(proxy.address(), "/api/gzip");
    assert.equal(got.cut, true);
    const text = got.body.toString("latin1");
    assert.ok(!text.includes(TOKEN.slice(0, 8)), text);
  });

  for (const [name, packed] of [
    ["gzip", zlib.gzipSync(Buffer.from(`${BEFORE}${TOKEN} end`))],
    ["zlib", zlib.deflateSync(Buffer.from(`${BEFORE}${TOKEN} end`))],
    ["raw deflate", zlib.deflateRawSync(Buffer.from(`${BEFORE}${"x".repeat(40)}${TOKEN} end`))],
    ["gzip after text", Buffer.concat([Buffer.from("log: "), zlib.gzipSync(`${BEFORE}${GIT}`)])],
  ] as const) {
    it(`cuts a ${name} answer without Content-Encoding reflecting a token`, async () => {
      replies.set(`/bare-${name}`, chunked([packed.subarray(0, 12), packed.subarray(12)]));
      const got = await ask(proxy.address(), `/api/${encodeURIComponent(`bare-${name}`)}`);
      assert.equal(got.cut, true, `${name}: the answer went out whole`);
      const inflated = (() => {
        for (const undo of [zlib.gunzipSync, zlib.inflateSync, zlib.inflateRawSync]) {
          try {
            return undo(got.body).toString("latin1");
          } catch {
            // Not this one (or not enough of it).
          }
        }
        return "";
      })();
      assert.ok(!inflated.includes(TOKEN.slice(0, 8)), `${name}: the token reached the agent`);
    });
  }

  it("passes a binary answer without Content-Encoding (a tarball) whole", async () => {
    const tarball = zlib.gzipSync(
      Buffer.from("package/index.js\0module.exports = 1;\n".repeat(50)),
    );
    replies.set("/tarball", chunked([tarball.subarray(0, 100), tarball.subarray(100)]));
    const got = await ask(proxy.address(), "/api/tarball");
    assert.equal(got.cut, false);
    assert.deepEqual(got.body, tarball);
  });

  it("refuses an answer in an encoding it cannot read", async () => {
    replies.set("/zstd", chunked([TOKEN], { "content-encoding": "zstd" }));
    const got = await ask(proxy.address(), "/api/zstd");
    assert.equal(got.status, 502);
    assert.ok(!got.body.toString("latin1").includes(TOKEN.slice(0, 8)));
  });

  it("redacts a header value holding the token in any form", async () => {
    replies.set("/header", (res) => {
      res.writeHead(200, { "x-echo": b64(TOKEN), "x-plain": "ok" });
      res.end("fine");
    });
    const got = await new Promise<http.IncomingMessage>((resolve) => {
      http.get({ host: "127.0.0.1", port: proxy.address(), path: "/api/header" }, resolve);
    });
    got.resume();
    assert.equal(got.headers["x-echo"], "[held by bot-bottle]");
    assert.equal(got.headers["x-plain"], "ok");
  });

  it("passes server-sent events whole and without delay, and gzip JSON decompressed", async () => {
    const events = Array.from(
      { length: 5 },
      (_, i) => `event: delta\ndata: {"text":"part ${i} of the answer"}\n\n`,
    );
    replies.set("/sse", chunked(events, { "content-type": "text/event-stream" }));
    const got = await ask(proxy.address(), "/api/sse");
    assert.equal(got.cut, false);
    assert.equal(got.body.toString(), events.join(""));
    // Each event arrived on its own (80 ms apart), none held for the next.
    assert.equal(got.times.length, events.length);
    const json = JSON.stringify({ id: "msg_1", content: [{ type: "text", text: "hello" }] });
    replies.set("/json", chunked([zlib.gzipSync(json)], { "content-encoding": "gzip" }));
    const plain = await ask(proxy.address(), "/api/json");
    assert.equal(plain.body.toString(), json);
  });
});

describe("the response guard (pure)", () => {
  it("holds back only what could begin a secret", () => {
    const guard = new ResponseGuard(new SecretForms([TOKEN]));
    const first = guard.push(`data: x\n\n${TOKEN.slice(0, 3)}`);
    assert.deepEqual(first, { cut: false, release: "data: x\n\n" });
    assert.deepEqual(guard.push("!\n"), { cut: false, release: `${TOKEN.slice(0, 3)}!\n` });
    assert.deepEqual(guard.push(TOKEN.slice(0, 12)), { cut: false, release: "" });
    assert.deepEqual(guard.push(TOKEN.slice(12)), { cut: true });
  });
});
