// How the egress gate reaches upstreams quickly without weaker checks: the first upstream
// connection of an intercepted tunnel opens while the agent's handshake runs (and carries no
// request byte before a request is judged), idle connections are shared by the tunnels to the
// same host and address only, TLS sessions are resumed per address, port and name, and one TLS
// context serves every upstream connection. A real TLS upstream on 127.0.0.1 that
// records each connection; the real proxy; real TLS clients.
import assert from "node:assert/strict";
import type net from "node:net";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { UpstreamTls } from "../../src/sidecar/egress/upstream-connection.js";
import {
  interceptRule,
  interceptedSocket,
  waitFor,
  withInterceptingProxy,
} from "../helpers/egress-harness.js";

interface Seen {
  name: string;
  reused: boolean;
  requests: string[];
}

/** A TLS upstream answering `ok` to each request line; records each connection. */
async function recordingUpstream(ca: BottleCa) {
  const leaves = new LeafCertificates(ca);
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  /** When set, each answer says `connection: close` and the connection ends after it. */
  const options = { closeEach: false, dropSecond: false };
  const server = tls.createServer({
    SNICallback: (name, done) => {
      leaves.secureContext(name).then(
        (context) => {
          done(null, context);
        },
        (error: unknown) => {
          done(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },
  });
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const servername = (socket as unknown as { servername?: unknown }).servername;
    const record: Seen = {
      name: typeof servername === "string" ? servername : "",
      reused: socket.isSessionReused(),
      requests: [],
    };
    seen.push(record);
    let pending = "";
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      while (pending.includes("\r\n\r\n")) {
        const end = pending.indexOf("\r\n\r\n");
        record.requests.push(pending.slice(0, pending.indexOf("\r\n")));
        pending = pending.slice(end + 4);
        if (options.dropSecond && record.requests.length === 2) {
          // As if the upstream had closed the idle connection just as the request came.
          socket.destroy();
          return;
        }
        if (options.closeEach) {
          socket.end("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
        } else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    seen,
    options,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** One request on an intercepted socket; resolves with the status line. */
function get(socket: tls.TLSSocket, host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("\r\n\r\n")) resolve(text.slice(0, text.indexOf("\r\n")));
    });
    socket.once("error", reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

describe("egress upstream connections", () => {
  let upstreamCa: BottleCa;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;

  before(async () => {
    upstreamCa = await createBottleCa("test-upstream");
    upstream = await recordingUpstream(upstreamCa);
  });
  after(async () => {
    await upstream.close();
  });

  const policy = () => ({
    allow: [
      interceptRule("a.example.test", { ports: [upstream.port], paths: ["/ok"] }),
      interceptRule("b.example.test", { ports: [upstream.port] }),
    ],
    deny: [],
  });

  it("opens the upstream connection during the agent's handshake, and sends nothing before a request is judged", async () => {
    upstream.seen.length = 0;
    await withInterceptingProxy(policy(), upstreamCa, {}, async ({ port, bottleCa }) => {
      const agent = await interceptedSocket(
        port,
        "a.example.test",
        upstream.port,
        bottleCa.certPem,
      );
      // No request yet: the upstream already has its TLS connection, with no request on it.
      await waitFor(() => upstream.seen.length === 1, "the upstream connection");
      assert.deepEqual(
        upstream.seen.map((s) => [s.name, s.requests]),
        [["a.example.test", []]],
      );
      // A request the policy refuses is answered by the gate; nothing reaches the upstream.
      assert.match(await get(agent, "a.example.test", "/denied"), /^HTTP\/1\.1 403/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        upstream.seen.flatMap((s) => s.requests),
        [],
      );
      agent.destroy();
    });
  });

  it("shares an idle upstream connection between tunnels to the same host, never another host's", async () => {
    upstream.seen.length = 0;
    await withInterceptingProxy(policy(), upstreamCa, {}, async ({ port, bottleCa }) => {
      const once = async (host: string, path: string): Promise<void> => {
        const agent = await interceptedSocket(port, host, upstream.port, bottleCa.certPem);
        assert.match(await get(agent, host, path), /^HTTP\/1\.1 200/);
        agent.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
      };
      await once("a.example.test", "/ok");
      await once("a.example.test", "/ok");
      // The same address and port, another judged name: its own connection.
      await once("b.example.test", "/other");
      await waitFor(() => upstream.seen.length === 2, "two upstream connections");
      assert.deepEqual(
        upstream.seen.map((s) => [s.name, s.requests]),
        [
          ["a.example.test", ["GET /ok HTTP/1.1", "GET /ok HTTP/1.1"]],
          ["b.example.test", ["GET /other HTTP/1.1"]],
        ],
      );
    });
  });

  it("sends a request again on a new connection when a shared one was closed under it", async () => {
    upstream.seen.length = 0;
    upstream.options.dropSecond = true;
    try {
      await withInterceptingProxy(policy(), upstreamCa, {}, async ({ port, bottleCa }) => {
        for (let i = 0; i < 2; i += 1) {
          const agent = await interceptedSocket(
            port,
            "a.example.test",
            upstream.port,
            bottleCa.certPem,
          );
          assert.match(await get(agent, "a.example.test", "/ok"), /^HTTP\/1\.1 200/);
          agent.destroy();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual(
          upstream.seen.map((s) => s.requests.length),
          [2, 1],
        );
      });
    } finally {
      upstream.options.dropSecond = false;
    }
  });

  it("resumes the TLS session of the same name, never another name's", async () => {
    upstream.seen.length = 0;
    // Each connection ends after its answer, so every tunnel needs a new one.
    upstream.options.closeEach = true;
    try {
      await withInterceptingProxy(policy(), upstreamCa, {}, async ({ port, bottleCa }) => {
        const once = async (host: string): Promise<void> => {
          const agent = await interceptedSocket(port, host, upstream.port, bottleCa.certPem);
          assert.match(await get(agent, host, "/ok"), /^HTTP\/1\.1 200/);
          agent.destroy();
        };
        await once("a.example.test");
        await once("a.example.test");
        await once("b.example.test");
        await waitFor(() => upstream.seen.length === 3, "three upstream connections");
        assert.deepEqual(
          upstream.seen.map((s) => [s.name, s.reused, s.requests]),
          [
            ["a.example.test", false, ["GET /ok HTTP/1.1"]],
            ["a.example.test", true, ["GET /ok HTTP/1.1"]],
            ["b.example.test", false, ["GET /ok HTTP/1.1"]],
          ],
        );
      });
    } finally {
      upstream.options.closeEach = false;
    }
  });

  it("builds the upstream TLS context once per gate", () => {
    const upstreamTls = new UpstreamTls([upstreamCa.certPem]);
    assert.equal(upstreamTls.secureContext(), upstreamTls.secureContext());
  });
});
