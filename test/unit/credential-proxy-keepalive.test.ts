// The credential proxy keeps upstream connections alive, one pool per route: between a real client
// and real TLS upstreams on 127.0.0.1, model calls reuse the connection of the call before, a
// connection never carries two routes' tokens (even to one upstream), a connection the upstream
// closed is replaced, and stop() leaves no connection open. Fake tokens.
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { describe, it } from "node:test";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import type { CredentialRoute } from "../../src/sidecar/credentials/credential-routes.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";

const TOKEN_A = "sk-ant-api03-route-a-fake-0123456789abcdef";
const TOKEN_B = "sk-ant-api03-route-b-fake-fedcba9876543210";

interface Upstream {
  port: number;
  /** Per upstream connection, the credentials it carried, in order. */
  seen: Map<net.Socket, string[]>;
  server: https.Server;
}

async function startUpstream(keepAliveTimeout: number): Promise<Upstream & { ca: string }> {
  const ca = await createBottleCa("keepalive-upstream");
  const leaf = await new LeafCertificates(ca).issuePem("127.0.0.1");
  const seen = new Map<net.Socket, string[]>();
  const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    const socket = req.socket;
    seen.set(socket, [...(seen.get(socket) ?? []), String(req.headers["x-api-key"])]);
    req.resume();
    res.end("ok");
  });
  server.keepAliveTimeout = keepAliveTimeout;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const running: Upstream & { ca: string } = { port, seen, server, ca: ca.certPem };
  return running;
}

function route(name: string, port: number): CredentialRoute {
  return {
    name,
    path: `/${name}`,
    upstream: `https://127.0.0.1:${port}`,
    role: null,
    inject: "x-api-key",
  };
}

function post(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: "POST", agent: false },
      (res) => {
        res.resume();
        res.on("end", () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("credential proxy: kept-alive upstream connections", () => {
  it(
    "reuses a route's connection, never across routes, and closes them on stop",
    { timeout: 30_000 },
    async () => {
      const upstream = await startUpstream(60_000);
      const proxy = new CredentialProxy({
        routes: [route("a", upstream.port), route("b", upstream.port)],
        audit: () => undefined,
        upstreamCa: [upstream.ca],
      });
      await proxy.listen({ host: "127.0.0.1", port: 0 });
      try {
        proxy.setTokens({ a: TOKEN_A, b: TOKEN_B });
        for (const path of ["/a/1", "/b/1", "/a/2", "/b/2", "/a/3"]) {
          assert.equal(await post(proxy.address(), path), 200);
        }
        const connections = [...upstream.seen.values()];
        // One connection per route (five calls): before, every call opened its own.
        assert.equal(connections.length, 2, JSON.stringify(connections.map((c) => c.length)));
        for (const tokens of connections) assert.equal(new Set(tokens).size, 1);
        assert.deepEqual(connections.map((c) => c.length).sort(), [2, 3]);
        await proxy.stop();
        // stop() closed the kept connections: the upstream sees them go.
        const deadline = Date.now() + 5_000;
        while ([...upstream.seen.keys()].some((s) => !s.destroyed) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.ok([...upstream.seen.keys()].every((s) => s.destroyed));
      } finally {
        await proxy.stop();
        upstream.server.closeAllConnections();
        upstream.server.close();
      }
    },
  );

  it(
    "replaces a connection the upstream closed while it was idle",
    { timeout: 30_000 },
    async () => {
      const upstream = await startUpstream(50);
      const proxy = new CredentialProxy({
        routes: [route("a", upstream.port)],
        audit: () => undefined,
        upstreamCa: [upstream.ca],
      });
      await proxy.listen({ host: "127.0.0.1", port: 0 });
      try {
        proxy.setTokens({ a: TOKEN_A });
        assert.equal(await post(proxy.address(), "/a/1"), 200);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(await post(proxy.address(), "/a/2"), 200);
        assert.equal(upstream.seen.size, 2);
      } finally {
        await proxy.stop();
        upstream.server.closeAllConnections();
        upstream.server.close();
      }
    },
  );
});
