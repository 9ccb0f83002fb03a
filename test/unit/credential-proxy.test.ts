// The credential proxy: routing and header rules as pure functions, then the real proxy between a
// real client and the scripted Messages API stand-in on 127.0.0.1 (plain and TLS). Fake tokens.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import type { CredentialAuditEntry } from "../../src/sidecar/credentials/credential-proxy.js";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import type { CredentialRoute } from "../../src/sidecar/credentials/credential-routes.js";
import {
  selectRoute,
  upstreamHeaders,
  upstreamUrl,
} from "../../src/sidecar/credentials/credential-routes.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { startFakeMessagesApi } from "../support/fake-messages-api.js";

const TOKEN = "sk-ant-api03-REAL-but-fake-0123456789abcdef";
const PLACEHOLDER = "sk-ant-api03-placeholder-held-by-bot-bottle-0000000000";

function route(extra: Partial<CredentialRoute> = {}): CredentialRoute {
  return {
    name: "anthropic",
    path: "/anthropic",
    upstream: "https://api.example.test",
    role: "anthropic-base-url",
    inject: "x-api-key",
    ...extra,
  };
}

describe("credential routes (pure)", () => {
  it("owns its prefix on a segment boundary; the longest prefix wins", () => {
    const routes = [route(), route({ name: "beta", path: "/anthropic/beta" })];
    assert.equal(selectRoute(routes, "/anthropic")?.name, "anthropic");
    assert.equal(selectRoute(routes, "/anthropic/v1/messages?x=1")?.name, "anthropic");
    assert.equal(selectRoute(routes, "/anthropic/beta/v1")?.name, "beta");
    assert.equal(selectRoute(routes, "/anthropicx/v1"), undefined);
    assert.equal(selectRoute(routes, "/other"), undefined);
  });

  it("joins the upstream's own path with the rest and keeps the query", () => {
    const withBase = route({ upstream: "https://gw.example.test/base/" });
    assert.equal(
      upstreamUrl(withBase, "/anthropic/v1/messages?beta=true").href,
      "https://gw.example.test/base/v1/messages?beta=true",
    );
    assert.equal(upstreamUrl(route(), "/anthropic").href, "https://api.example.test/");
  });

  it("strips every credential the agent sent and injects the real token as the route says", () => {
    const incoming = {
      "x-api-key": PLACEHOLDER,
      authorization: "Bearer agent-made",
      cookie: "a=b",
      "proxy-authorization": "Basic x",
      "x-custom-token": "agent",
      "anthropic-version": "2023-06-01",
      host: "127.0.0.1:3129",
    };
    const url = new URL("https://api.example.test/v1/messages");
    const apiKey = upstreamHeaders(route(), incoming, TOKEN, url);
    assert.equal(apiKey["x-api-key"], TOKEN);
    assert.equal(apiKey.authorization, undefined);
    assert.equal(apiKey.cookie, undefined);
    assert.equal(apiKey["proxy-authorization"], undefined);
    assert.equal(apiKey["anthropic-version"], "2023-06-01");
    assert.equal(apiKey.host, "api.example.test");

    const bearer = upstreamHeaders(
      route({ inject: "bearer", role: null }),
      incoming,
      "tok-123456",
      url,
    );
    assert.equal(bearer.authorization, "Bearer tok-123456");
    assert.equal(bearer["x-api-key"], undefined);

    const named = upstreamHeaders(
      route({ inject: "header:X-Custom-Token", role: null }),
      incoming,
      "tok-123456",
      url,
    );
    assert.equal(named["x-custom-token"], "tok-123456");

    const oauth = upstreamHeaders(
      route(),
      { ...incoming, "anthropic-beta": "tools-1" },
      "sk-ant-oat01-FAKE0123456789",
      url,
    );
    assert.equal(oauth.authorization, "Bearer sk-ant-oat01-FAKE0123456789");
    assert.equal(oauth["x-api-key"], undefined);
    assert.equal(oauth["anthropic-beta"], "tools-1,oauth-2025-04-20");
  });
});

interface Running {
  proxy: CredentialProxy;
  port: number;
  audits: CredentialAuditEntry[];
}

async function withProxy(
  routes: CredentialRoute[],
  body: (r: Running) => Promise<void>,
  extra: { upstreamCa?: string[]; timeoutMs?: number } = {},
): Promise<void> {
  const audits: CredentialAuditEntry[] = [];
  const proxy = new CredentialProxy({ routes, audit: (e) => audits.push(e), ...extra });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  try {
    await body({ proxy, port: proxy.address(), audits });
  } finally {
    await proxy.stop();
  }
}

function post(
  port: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": PLACEHOLDER, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", () => undefined);
        // A response the proxy cuts off ends in 'close' without 'end'.
        res.on("close", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          });
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("credential proxy", () => {
  let api: Awaited<ReturnType<typeof startFakeMessagesApi>>;
  before(async () => {
    api = await startFakeMessagesApi({ token: TOKEN, command: "true", final: "final answer" });
  });
  after(async () => {
    api.server.closeAllConnections();
    await new Promise((resolve) => api.server.close(resolve));
  });

  it("answers 503 until the token arrives, then forwards with the real token", async () => {
    await withProxy(
      [route({ upstream: `http://127.0.0.1:${api.port}` })],
      async ({ proxy, port, audits }) => {
        const early = await post(port, "/anthropic/v1/messages", { messages: [] });
        assert.equal(early.status, 503);
        assert.match(early.text, /has not been handed over yet/);
        proxy.setTokens({ anthropic: TOKEN });
        const answer = await post(port, "/anthropic/v1/messages", {
          model: "m",
          messages: [{ role: "user", content: "hi" }],
        });
        assert.equal(answer.status, 200, answer.text);
        assert.match(answer.text, /"text":"ok"/);
        const seen = api.requests.at(-1);
        assert.ok(seen);
        assert.equal(seen.headers["x-api-key"], TOKEN);
        assert.equal(seen.url, "/v1/messages");
        assert.ok(!JSON.stringify(audits).includes(TOKEN));
        assert.deepEqual(
          audits.map((a) => [a.route, a.status]),
          [
            ["anthropic", 503],
            ["anthropic", 200],
          ],
        );
      },
    );
  });

  it("streams server-sent events one by one, as they come", async () => {
    await withProxy(
      [route({ upstream: `http://127.0.0.1:${api.port}` })],
      async ({ proxy, port }) => {
        proxy.setTokens({ anthropic: TOKEN });
        const arrivals: number[] = [];
        await new Promise<void>((resolve, reject) => {
          http
            .get({ host: "127.0.0.1", port, path: "/anthropic/stream?events=20&gap=20" }, (res) => {
              res.on("data", (chunk: Buffer) => {
                const count = chunk
                  .toString()
                  .split("\n\n")
                  .filter((e) => e.trim() !== "").length;
                for (let i = 0; i < count; i += 1) arrivals.push(Date.now());
              });
              res.on("end", resolve);
            })
            .on("error", reject);
        });
        assert.equal(arrivals.length, 20);
        // Held-back events would arrive together at the end; streamed ones are spread over ~380 ms.
        const spread = (arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0);
        assert.ok(spread > 200, `events arrived within ${spread} ms of each other`);
      },
    );
  });

  it("gives 404 off the routes, 502 when the upstream is down, 504 when it is silent", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const silent = net.createServer((s) => s.on("error", () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      await withProxy(
        [
          route({ upstream: `http://127.0.0.1:${closedPort}` }),
          route({ name: "slow", path: "/slow", upstream: `http://127.0.0.1:${silentPort}` }),
        ],
        async ({ proxy, port }) => {
          proxy.setTokens({ anthropic: TOKEN, slow: TOKEN });
          const missing = await post(port, "/elsewhere", {});
          assert.equal(missing.status, 404);
          assert.match(missing.text, /routes: \/anthropic, \/slow/);
          const down = await post(port, "/anthropic/v1/messages", {});
          assert.equal(down.status, 502);
          assert.match(down.text, /"type":"error".*ECONNREFUSED/);
          const slow = await post(port, "/slow/v1/messages", {});
          assert.equal(slow.status, 504);
          assert.ok(!down.text.includes(TOKEN) && !slow.text.includes(TOKEN));
        },
        { timeoutMs: 300 },
      );
    } finally {
      silent.close();
    }
  });

  it("verifies upstream TLS, and never lets the token back to the agent", async () => {
    const ca = await createBottleCa("cred-upstream");
    const leaf = await new LeafCertificates(ca).issuePem("127.0.0.1");
    const echo = await startFakeMessagesApi({
      token: TOKEN,
      command: "true",
      final: "x",
      tls: leaf,
    });
    // An upstream that echoes the credential it got, in a header and in the body.
    const leaky = http.createServer((req, res) => {
      res.setHeader("x-echo", String(req.headers["x-api-key"]));
      res.end(`you sent ${String(req.headers["x-api-key"])}`);
    });
    await new Promise<void>((resolve) => leaky.listen(0, "127.0.0.1", resolve));
    const leakyPort = (leaky.address() as net.AddressInfo).port;
    try {
      const routes = [
        route({ upstream: `https://127.0.0.1:${echo.port}` }),
        route({ name: "leaky", path: "/leaky", upstream: `http://127.0.0.1:${leakyPort}` }),
      ];
      await withProxy(routes, async ({ proxy, port }) => {
        proxy.setTokens({ anthropic: TOKEN, leaky: TOKEN });
        const untrusted = await post(port, "/anthropic/v1/messages", {});
        assert.equal(untrusted.status, 502);
        assert.match(untrusted.text, /SELF_SIGNED|CERT|ISSUER/);
      });
      await withProxy(
        routes,
        async ({ proxy, port }) => {
          proxy.setTokens({ anthropic: TOKEN, leaky: TOKEN });
          const trusted = await post(port, "/anthropic/v1/messages", { messages: [] });
          assert.equal(trusted.status, 200, trusted.text);
          const leak = await post(port, "/leaky/x", {}).catch(() => ({
            status: 0,
            headers: {},
            text: "",
          }));
          assert.ok(!JSON.stringify(leak.headers).includes(TOKEN));
          assert.ok(!leak.text.includes(TOKEN));
        },
        { upstreamCa: [ca.certPem] },
      );
    } finally {
      echo.server.closeAllConnections();
      echo.server.close();
      leaky.close();
    }
  });
});
