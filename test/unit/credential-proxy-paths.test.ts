// The credential proxy keeps every request under its route's base path. Attacks are written as an
// agent would send them: raw request lines on a socket, so no client normalises the path first.
// The upstream is a local server that counts what reaches it. Fake tokens only.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import type { CredentialRoute } from "../../src/sidecar/credentials/credential-routes.js";
import { decideRoute } from "../../src/sidecar/credentials/route-decision.js";

const TOKEN = ["fake", "route", "token", "0123456789abcdef"].join("-");

function routes(port: number): CredentialRoute[] {
  return [
    {
      name: "anthropic",
      path: "/anthropic",
      upstream: `http://127.0.0.1:${port}/v1base`,
      role: "anthropic-base-url",
      inject: "x-api-key",
    },
    {
      name: "gh",
      path: "/gh",
      upstream: `http://127.0.0.1:${port}/api/v3/`,
      role: null,
      inject: "bearer",
    },
  ];
}

/** Targets that must be refused with 400, whatever the route. */
const ATTACKS = [
  "/anthropic/../escaped/x",
  "/anthropic/./v1/messages",
  "/anthropic/%2e%2e/escaped2/x",
  "/anthropic/%2E%2E/escaped/x",
  "/anthropic/.%2e/escaped/x",
  "/anthropic/%2e./escaped/x",
  "/anthropic/%2e/x",
  "/anthropic/%252e%252e/escaped/x",
  "/anthropic/%25252e%25252e/escaped/x",
  "/anthropic/%2525252e%2525252e/escaped/x",
  "/anthropic/..;/escaped/x",
  "/anthropic/..;jsessionid=1/escaped",
  "/anthropic/..",
  "/anthropic/.",
  "/anthropic/%2e%2e",
  "/anthropic/..%2fescaped",
  "/anthropic/%2e%2e%2fescaped",
  "/anthropic/%2E%2E%2Fescaped",
  "/anthropic/..%5cescaped",
  "/anthropic/%5c..%5cescaped",
  "/anthropic/..\\escaped",
  "/anthropic\\..\\escaped",
  "/anthropic/%252f..%252fescaped",
  "/anthropic/v1%2f..%2f..%2fescaped",
  "/anthropic/%00/x",
  "/anthropic/x%00.json",
  "/anthropic/%2500/x",
  "/anthropic//escaped",
  "/anthropic/v1//messages",
  "//anthropic/v1/messages",
  "//evil.test/anthropic/v1",
  "/gh/../../escaped3",
  "/gh/%2e%2e/%2e%2e/escaped3",
  "/gh/repos/../../../escaped",
  "/anthropic/%zz/x",
  "/anthropic/%2/x",
  "/anthropic/x%",
  "/anthropic/v1#/../../x",
  "http://127.0.0.1/anthropic/v1/messages",
  "http://127.0.0.1/anthropic/../escaped",
  "https://api.anthropic.com/anthropic/v1",
  "127.0.0.1:443",
  "*",
  "anthropic/v1",
];

const ALLOWED: [string, string, string][] = [
  ["/anthropic/v1/messages", "anthropic", "/v1base/v1/messages"],
  ["/anthropic/v1/messages?beta=true&x=%2e%2e", "anthropic", "/v1base/v1/messages"],
  ["/anthropic", "anthropic", "/v1base/"],
  ["/anthropic/", "anthropic", "/v1base/"],
  ["/anthropic/v1/a.b..c/...", "anthropic", "/v1base/v1/a.b..c/..."],
  ["/anthropic/v1/files/na%20me", "anthropic", "/v1base/v1/files/na%20me"],
  ["/gh/repos/o/r/pulls", "gh", "/api/v3/repos/o/r/pulls"],
];

describe("credential route decision (pure)", () => {
  const table = routes(1);
  for (const target of ATTACKS) {
    it(`refuses ${JSON.stringify(target)}`, () => {
      const decision = decideRoute(table, target);
      assert.equal(decision.kind, "refuse", JSON.stringify(decision));
    });
  }
  for (const [target, name, pathname] of ALLOWED) {
    it(`forwards ${target} to ${name} under its base`, () => {
      const decision = decideRoute(table, target);
      assert.ok(decision.kind === "forward", JSON.stringify(decision));
      assert.equal(decision.route.name, name);
      assert.equal(decision.url.pathname, pathname);
    });
  }
  it("answers none (404) for a clean path under no route", () => {
    assert.equal(decideRoute(table, "/other/x").kind, "none");
    assert.equal(decideRoute(table, "/anthropicx/v1").kind, "none");
  });
});

/** Sends one hand-written request and returns the status code of the answer. */
function rawRequest(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: placeholder\r\nConnection: close\r\n\r\n`,
        "latin1",
      );
    });
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? "0"));
    });
  });
}

describe("credential proxy refuses paths that leave the route (raw sockets)", () => {
  const seen: { url: string; auth: string }[] = [];
  let upstream: http.Server;
  let proxy: CredentialProxy;
  before(async () => {
    upstream = http.createServer((req, res) => {
      seen.push({
        url: req.url ?? "",
        auth: String(req.headers["x-api-key"] ?? req.headers.authorization ?? ""),
      });
      res.end("ok");
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const port = (upstream.address() as net.AddressInfo).port;
    proxy = new CredentialProxy({ routes: routes(port), audit: () => undefined });
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    proxy.setTokens({ anthropic: TOKEN, gh: TOKEN });
  });
  after(async () => {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) =>
      upstream.close(() => {
        resolve();
      }),
    );
  });

  it("answers 400 (or the parser's 400) to every attack and sends nothing upstream", async () => {
    const statuses: Record<string, number> = {};
    for (const target of ATTACKS) statuses[target] = await rawRequest(proxy.address(), target);
    assert.deepEqual(seen, [], `reached the upstream: ${JSON.stringify(seen)}`);
    for (const [target, status] of Object.entries(statuses))
      assert.equal(status, 400, `${target} answered ${status}`);
  });

  it("still forwards a plain path, under the route's base, with the token", async () => {
    assert.equal(await rawRequest(proxy.address(), "/anthropic/v1/messages?x=1"), 200);
    assert.equal(await rawRequest(proxy.address(), "/gh/repos/o/r"), 200);
    assert.deepEqual(
      seen.map((s) => s.url),
      ["/v1base/v1/messages?x=1", "/api/v3/repos/o/r"],
    );
    assert.ok(seen[0]?.auth === TOKEN && seen[1]?.auth === `Bearer ${TOKEN}`);
  });
});
