// Component tests of the egress gate's interception: a real TLS upstream on 127.0.0.1 with its own
// CA, the real proxy with a bottle CA, and real clients (curl, node tls/https, raw sockets).
// Host names are resolved by an injected resolver to 127.0.0.1; nothing leaves the machine.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import type { AuditEntry } from "../../src/sidecar/egress/egress-audit-entry.js";
import type { ContentInspector } from "../../src/sidecar/shared/content-inspector.js";
import type { EgressPolicy } from "../../src/sidecar/egress/egress-policy.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import type { EgressProxyOptions } from "../../src/sidecar/egress/egress-proxy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { acceptKey, interceptRule, sniCallback } from "../helpers/egress-harness.js";

const TIMEOUT = 30_000;
const MARKER = "FAKE-SECRET-MARKER-0000";

/** A stand-in inspector: finds MARKER anywhere it is shown, and hosts starting with "exfil-". */
const markerInspector: ContentInspector = {
  inspectHost: (host) =>
    host.startsWith("exfil-") ? [{ kind: "hostname-exfiltration", where: "host" }] : [],
  inspectRequest: (request) => {
    const text = `${request.path}\n${JSON.stringify(request.headers)}\n${request.body?.toString("latin1") ?? ""}`;
    return text.includes(MARKER) ? [{ kind: "test-marker", where: "request" }] : [];
  },
  newWebSocketScanner: () => {
    let carried = "";
    return {
      frame: (_opcode, payload) => {
        carried = (carried + payload.toString("latin1")).slice(-64);
        return carried.includes(MARKER) ? [{ kind: "test-marker", where: "websocket" }] : [];
      },
    };
  },
};

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  body: string;
}

interface Upstream {
  server: https.Server;
  port: number;
  seen: Seen[];
  sockets: Set<net.Socket>;
}

/** An HTTPS upstream for any name (leaf per SNI from its own CA) that also echoes WebSockets. */
async function startUpstream(leaves: LeafCertificates): Promise<Upstream> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer(
    {
      SNICallback: sniCallback(leaves),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          host: req.headers.host,
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ url: req.url, host: req.headers.host }));
      });
    },
  );
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    seen.push({ method: "UPGRADE", url: req.url ?? "", host: req.headers.host, body: "" });
    const key = req.headers["sec-websocket-key"] ?? "";
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    // Echo each (small, masked) client frame back unmasked.
    socket.on("data", (frame: Buffer) => {
      const length = (frame[1] ?? 0) & 0x7f;
      const mask = frame.subarray(2, 6);
      const payload = Buffer.from(frame.subarray(6, 6 + length));
      for (let i = 0; i < payload.length; i += 1)
        payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      if (((frame[0] ?? 0) & 0x0f) === 1)
        socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, seen, sockets };
}

interface Running {
  proxy: EgressProxy;
  port: number;
  audits: AuditEntry[];
}

async function withProxy(
  options: Partial<EgressProxyOptions>,
  body: (running: Running) => Promise<void>,
): Promise<void> {
  const audits: AuditEntry[] = [];
  const proxy = new EgressProxy({
    decide: () => ({ verdict: "deny", rule: "default-deny", reason: "nothing allowed" }),
    audit: (entry) => audits.push(entry),
    resolve: () => Promise.resolve(["127.0.0.1"]),
    ...options,
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  try {
    await body({ proxy, port: proxy.address(), audits });
  } finally {
    await proxy.stop();
  }
}

interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-q", "-sS", "--max-time", "10", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Opens a CONNECT tunnel and resolves with the socket once the proxy answered 200. */
function openTunnel(proxyPort: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, "127.0.0.1");
    socket.once("error", reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (head.startsWith("HTTP/1.1 200")) resolve(socket);
      else reject(new Error(head));
    };
    socket.on("data", onData);
  });
}

function tlsThrough(tunnel: net.Socket, servername: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket: tunnel, servername, ca, ALPNProtocols: ["http/1.1"] });
    secure.once("secureConnect", () => {
      resolve(secure);
    });
    secure.once("error", reject);
  });
}

function readUntil(socket: net.Socket, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      reject(new Error(`no ${String(pattern)} in: ${text}`));
    }, 5_000);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    socket.once("close", () => {
      clearTimeout(timer);
      if (pattern.test(text)) resolve(text);
      else reject(new Error(`closed before ${String(pattern)}: ${text}`));
    });
  });
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe("egress interception", () => {
  let bottleCa: BottleCa;
  let upstreamCa: BottleCa;
  let upstream: Upstream;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-intercept-"));
  const caFile = path.join(tmp, "bottle-ca.pem");

  before(async () => {
    bottleCa = await createBottleCa("test-bottle");
    upstreamCa = await createBottleCa("test-upstream");
    fs.writeFileSync(caFile, bottleCa.certPem);
    upstream = await startUpstream(new LeafCertificates(upstreamCa));
  });

  after(async () => {
    upstream.server.closeAllConnections();
    for (const s of upstream.sockets) s.destroy();
    await new Promise((resolve) => upstream.server.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function options(
    policy: EgressPolicy,
    extra: Partial<EgressProxyOptions> = {},
  ): Partial<EgressProxyOptions> {
    return {
      decide: (request) => decideEgress(policy, request),
      ca: bottleCa,
      upstreamCa: [upstreamCa.certPem],
      inspector: markerInspector,
      ...extra,
    };
  }

  it(
    "opens TLS under the bottle CA: curl trusts it, keeps the tunnel alive, and every request is audited",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withProxy(options(policy), async ({ port, audits }) => {
        const base = `https://api.example.test:${upstream.port}`;
        const result = await curl([
          "--cacert",
          caFile,
          "-x",
          `http://127.0.0.1:${port}`,
          `${base}/one?q=s3cret`,
          `${base}/two`,
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /"url":"\/one\?q=s3cret"/);
        assert.match(result.stdout, /"url":"\/two"/);
        assert.equal(upstream.seen.at(-1)?.host, `api.example.test:${upstream.port}`);
        await waitFor(() => audits.length === 3, "two requests and one tunnel");
        assert.deepEqual(
          audits.map((e) => [e.kind, e.method, e.path, e.status, e.address]),
          [
            ["https", "GET", "/one", 200, "127.0.0.1"],
            ["https", "GET", "/two", 200, "127.0.0.1"],
            ["connect", "CONNECT", null, 200, "127.0.0.1"],
          ],
        );
        assert.ok(!JSON.stringify(audits).includes("s3cret"));
      });
    },
  );

  it("enforces method and path limits inside the tunnel", { timeout: TIMEOUT }, async () => {
    const policy = {
      allow: [
        interceptRule("api.example.test", {
          ports: [upstream.port],
          methods: ["GET"],
          paths: ["/repos/"],
        }),
      ],
      deny: [],
    };
    await withProxy(options(policy), async ({ port }) => {
      const base = `https://api.example.test:${upstream.port}`;
      const proxy = ["--cacert", caFile, "-x", `http://127.0.0.1:${port}`, "-i"];
      const ok = await curl([...proxy, `${base}/repos/x`]);
      assert.match(ok.stdout, /\r\n\r\nHTTP\/1\.1 200 /);
      const post = await curl([...proxy, "-X", "POST", `${base}/repos/x`]);
      assert.match(post.stdout, /\r\n\r\nHTTP\/1\.1 403 /);
      assert.match(post.stdout, /x-bot-bottle-denied: default-deny/i);
      assert.match(post.stdout, /method POST to api\.example\.test is not allowed/);
      const other = await curl([...proxy, `${base}/gists`]);
      assert.match(other.stdout, /\r\n\r\nHTTP\/1\.1 403 /);
    });
  });

  it(
    "verifies the upstream's certificate: an untrusted upstream gets 502",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withProxy(
        options(policy, { upstreamCa: [bottleCa.certPem] }),
        async ({ port, audits }) => {
          const result = await curl([
            "--cacert",
            caFile,
            "-i",
            "-x",
            `http://127.0.0.1:${port}`,
            `https://api.example.test:${upstream.port}/x`,
          ]);
          assert.match(result.stdout, /\r\n\r\nHTTP\/1\.1 502 /);
          await waitFor(() => audits.some((e) => e.kind === "https"), "the request's entry");
          assert.match(
            audits.find((e) => e.kind === "https")?.error ?? "",
            /CERT|SIGNATURE|ISSUER/i,
          );
        },
      );
    },
  );

  it(
    "refuses domain fronting: a different SNI, or a different Host",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withProxy(options(policy), async ({ port, audits }) => {
        const tunnel = await openTunnel(port, `api.example.test:${upstream.port}`);
        await assert.rejects(tlsThrough(tunnel, "evil.example.test", bottleCa.certPem));
        await waitFor(() => audits.length === 1, "the tunnel's entry");
        assert.deepEqual([audits[0]?.verdict, audits[0]?.rule], ["deny", "domain-fronting"]);

        const fronted = await curl([
          "--cacert",
          caFile,
          "-i",
          "-H",
          "Host: evil.example.test",
          "-x",
          `http://127.0.0.1:${port}`,
          `https://api.example.test:${upstream.port}/x`,
        ]);
        assert.match(fronted.stdout, /\r\n\r\nHTTP\/1\.1 403 /);
        assert.match(fronted.stdout, /x-bot-bottle-denied: domain-fronting/i);
        assert.ok(!upstream.seen.some((s) => s.host?.startsWith("evil") === true));
      });
    },
  );

  it(
    "blocks a request whose content the inspector flags, and only warns in warn mode",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      const url = `https://api.example.test:${upstream.port}/upload`;
      await withProxy(options(policy), async ({ port, audits }) => {
        const before = upstream.seen.length;
        const result = await curl([
          "--cacert",
          caFile,
          "-i",
          "-x",
          `http://127.0.0.1:${port}`,
          "--data",
          `x=${MARKER}`,
          url,
        ]);
        assert.match(result.stdout, /\r\n\r\nHTTP\/1\.1 403 /);
        assert.match(result.stdout, /x-bot-bottle-denied: dlp:test-marker/i);
        assert.match(result.stdout, /Remove the secret from the request/);
        assert.equal(upstream.seen.length, before);
        await waitFor(() => audits.some((e) => e.kind === "https"), "the request's entry");
        assert.ok(!JSON.stringify(audits).includes(MARKER));
      });
      await withProxy(options(policy, { dlp: "warn" }), async ({ port, audits }) => {
        const result = await curl([
          "--cacert",
          caFile,
          "-i",
          "-x",
          `http://127.0.0.1:${port}`,
          "--data",
          `x=${MARKER}`,
          url,
        ]);
        assert.match(result.stdout, /\r\n\r\nHTTP\/1\.1 200 /);
        assert.equal(upstream.seen.at(-1)?.body, `x=${MARKER}`);
        await waitFor(() => audits.some((e) => e.kind === "https"), "the request's entry");
        assert.equal(audits.find((e) => e.kind === "https")?.finding, "test-marker@request");
      });
      await withProxy(
        options(policy, { limits: { maxInspectedBodyBytes: 1024 } }),
        async ({ port }) => {
          const big = path.join(tmp, "big.bin");
          fs.writeFileSync(big, Buffer.alloc(4096, 0x61));
          const result = await curl([
            "--cacert",
            caFile,
            "-i",
            "-x",
            `http://127.0.0.1:${port}`,
            "--data-binary",
            `@${big}`,
            url,
          ]);
          assert.match(result.stdout, /\r\n\r\nHTTP\/1\.1 413 /);
          assert.match(result.stdout, /x-bot-bottle-denied: dlp:body-too-large/i);
        },
      );
    },
  );

  it(
    "refuses a host name the inspector flags before opening any tunnel",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("*.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      let dialled = 0;
      const dial = (address: string, p: number): net.Socket => {
        dialled += 1;
        return net.connect(p, address);
      };
      await withProxy(options(policy, { dial }), async ({ port }) => {
        const result = await curl([
          "--cacert",
          caFile,
          "-x",
          `http://127.0.0.1:${port}`,
          `https://exfil-6b6579.example.test:${upstream.port}/`,
        ]);
        assert.notEqual(result.code, 0);
        assert.match(result.stderr, /403/);
        assert.equal(dialled, 0);
      });
    },
  );

  it(
    "refuses a name that resolves to an internal address unless its rule says internal",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [
          interceptRule("inside.example.test", { internal: false }),
          interceptRule("lan.example.test", { ports: [upstream.port] }),
        ],
        deny: [],
      };
      let dialled = 0;
      const dial = (address: string, p: number): net.Socket => {
        dialled += 1;
        return net.connect(p, address);
      };
      const resolve = (host: string): Promise<string[]> =>
        Promise.resolve(
          host.startsWith("inside") ? ["10.1.2.3", "169.254.169.254"] : ["127.0.0.1"],
        );
      await withProxy(options(policy, { dial, resolve }), async ({ port, audits }) => {
        const inside = await curl([
          "-i",
          "-x",
          `http://127.0.0.1:${port}`,
          "http://inside.example.test/",
        ]);
        assert.match(inside.stdout, /^HTTP\/1\.1 403 /);
        assert.match(inside.stdout, /x-bot-bottle-denied: internal-address/i);
        assert.match(inside.stdout, /resolves to 10\.1\.2\.3, an internal address \(private\)/);
        assert.equal(dialled, 0);
        const lan = await curl([
          "--cacert",
          caFile,
          "-x",
          `http://127.0.0.1:${port}`,
          `https://lan.example.test:${upstream.port}/ok`,
        ]);
        assert.equal(lan.code, 0, lan.stderr);
        assert.equal(dialled, 1);
        assert.equal(audits[0]?.rule, "internal-address");
      });
    },
  );

  it(
    "bridges a WebSocket inside the tunnel and closes it on a flagged message",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("ws.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withProxy(options(policy), async ({ port, audits }) => {
        const tunnel = await openTunnel(port, `ws.example.test:${upstream.port}`);
        const secure = await tlsThrough(tunnel, "ws.example.test", bottleCa.certPem);
        const upgraded = readUntil(secure, /\r\n\r\n/);
        secure.write(
          `GET /socket HTTP/1.1\r\nHost: ws.example.test:${upstream.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
        );
        assert.match(await upgraded, /^HTTP\/1\.1 101/);
        const echoed = readUntil(secure, /hello there/);
        secure.write(maskedText("hello there"));
        await echoed;
        // The secret split across two messages is still seen.
        const closed = readUntil(secure, /\x88/);
        secure.write(maskedText(MARKER.slice(0, 10)));
        secure.write(maskedText(MARKER.slice(10)));
        const text = await closed;
        assert.ok(text.includes("test-marker"));
        await waitFor(() => audits.some((e) => e.kind === "websocket"), "the websocket entry");
        const entry = audits.find((e) => e.kind === "websocket");
        assert.deepEqual(
          [entry?.verdict, entry?.rule, entry?.status],
          ["deny", "dlp:test-marker", 101],
        );
      });
    },
  );

  it(
    "closes an intercepted tunnel that carries neither TLS nor HTTP",
    { timeout: TIMEOUT },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withProxy(options(policy), async ({ port }) => {
        const tunnel = await openTunnel(port, `api.example.test:${upstream.port}`);
        const answer = readUntil(tunnel, /HTTP\/1\.1 400/);
        tunnel.write("\x00\x01binary protocol\r\n\r\n");
        await answer;
      });
    },
  );
});

describe("egress limits and abuse", () => {
  const allowAll: EgressPolicy = {
    allow: [interceptRule("*.example.test", { tls: "passthrough" })],
    deny: [],
  };

  it(
    "answers oversized request heads with 431 and slow ones by closing, then still serves",
    { timeout: TIMEOUT },
    async () => {
      await withProxy(
        {
          decide: (r) => decideEgress(allowAll, r),
          limits: { maxHeaderBytes: 2048, headersTimeoutMs: 1_000 },
        },
        async ({ port }) => {
          const big = net.connect(port, "127.0.0.1");
          big.on("error", () => undefined);
          const answer = readUntil(big, /HTTP\/1\.1 4\d\d/);
          big.write(
            `GET http://a.example.test/ HTTP/1.1\r\nHost: a.example.test\r\nX-Big: ${"a".repeat(4096)}\r\n\r\n`,
          );
          assert.match(await answer, /HTTP\/1\.1 431/);

          const slow = net.connect(port, "127.0.0.1");
          slow.on("error", () => undefined);
          const timedOut = readUntil(slow, /HTTP\/1\.1 408/);
          slow.write("GET http://a.example.test/ HTTP/1.1\r\nHost: a");
          const closedAt = Date.now();
          await timedOut;
          assert.ok(Date.now() - closedAt < 5_000);

          const tunnel = await openTunnel(port, "a.example.test:443").catch(
            (error: unknown) => error,
          );
          assert.ok(tunnel instanceof net.Socket || /502/.test(String(tunnel)));
          if (tunnel instanceof net.Socket) tunnel.destroy();
        },
      );
    },
  );

  it(
    "refuses tunnels past the limit with 503, and frees the slots when clients go (reset or half-close)",
    { timeout: TIMEOUT },
    async () => {
      const echo = net.createServer((s) => {
        s.on("error", () => undefined);
        s.pipe(s);
      });
      await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
      const echoPort = (echo.address() as net.AddressInfo).port;
      const policy: EgressPolicy = {
        allow: [interceptRule("echo.example.test", { tls: "passthrough", ports: [echoPort] })],
        deny: [],
      };
      try {
        await withProxy(
          { decide: (r) => decideEgress(policy, r), limits: { maxTunnels: 2 } },
          async ({ proxy, port }) => {
            const one = await openTunnel(port, `echo.example.test:${echoPort}`);
            const two = await openTunnel(port, `echo.example.test:${echoPort}`);
            await assert.rejects(openTunnel(port, `echo.example.test:${echoPort}`), /503/);
            one.resetAndDestroy();
            two.end();
            await waitFor(() => proxy.openTunnels() === 0, "the slots to free");
            const three = await openTunnel(port, `echo.example.test:${echoPort}`);
            three.destroy();
          },
        );
      } finally {
        await new Promise((resolve) => echo.close(resolve));
      }
    },
  );
});
