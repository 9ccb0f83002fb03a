// A real egress proxy with TLS interception in front of a real TLS upstream on 127.0.0.1 (its own
// CA, a leaf per SNI) that answers plain requests and WebSocket upgrades. Host names resolve to
// 127.0.0.1 through an injected resolver; nothing leaves the machine.
import crypto from "node:crypto";
import type http from "node:http";
import https from "node:https";
import type net from "node:net";
import net2 from "node:net";
import tls from "node:tls";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import type { AuditEntry } from "../../src/sidecar/egress/egress-audit-entry.js";
import type { EgressPolicy } from "../../src/sidecar/egress/egress-policy.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import type { EgressProxyOptions } from "../../src/sidecar/egress/egress-proxy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { AuditLog } from "../../src/sidecar/shared/audit-log.js";

export function interceptRule(host: string, extra: Partial<PlanEgressRule> = {}): PlanEgressRule {
  return {
    host,
    ports: [443, 80],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: true,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
    ...extra,
  };
}

export interface HarnessUpstream {
  port: number;
  /** Plain requests seen: method, url, raw header lines. */
  requests: { method: string; url: string; rawHeaders: string[] }[];
  /** Bytes received on upgraded WebSockets, concatenated per connection. */
  wsBytes: Buffer[];
  close(): Promise<void>;
}

/** A TLS server's SNICallback that answers every name with a leaf of `leaves`' CA. */
export function sniCallback(leaves: LeafCertificates): tls.TlsOptions["SNICallback"] {
  return (name, done) => {
    leaves.secureContext(name).then(
      (context) => {
        done(null, context);
      },
      (error: unknown) => {
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };
}

/** The Sec-WebSocket-Accept answer to a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return crypto
    .createHash("sha1")
    .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
}

export async function startUpstream(): Promise<HarnessUpstream & { ca: BottleCa }> {
  const ca = await createBottleCa("test-upstream");
  const leaves = new LeafCertificates(ca);
  const requests: HarnessUpstream["requests"] = [];
  const wsBytes: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = https.createServer(
    {
      SNICallback: sniCallback(leaves),
    },
    (req, res) => {
      req.resume();
      req.on("end", () => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", rawHeaders: req.rawHeaders });
        res.end("ok");
      });
    },
  );
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
    const index = wsBytes.push(Buffer.alloc(0)) - 1;
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers["sec-websocket-key"]))}\r\n\r\n`,
    );
    socket.on("data", (chunk: Buffer) => {
      wsBytes[index] = Buffer.concat([wsBytes[index] ?? Buffer.alloc(0), chunk]);
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    ca,
    port: address.port,
    requests,
    wsBytes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/** Writes `request` to the proxy at 127.0.0.1:`port`; its answer, up to the close (3 s at most). */
export function sendRaw(port: number, request: string): Promise<Buffer> {
  const socket = net2.connect(port, "127.0.0.1");
  const answer = collectUntilClose(socket, 3_000);
  socket.write(request);
  return answer;
}

export interface AuditedProxy {
  proxy: EgressProxy;
  /** Stops the proxy and closes its audit log. */
  stop: () => Promise<void>;
}

/**
 * A plain egress proxy on 127.0.0.1 (every name resolves there) that writes its audit to `file`
 * through a real AuditLog, with a DLP inspector that knows `ownSecrets`.
 */
export async function auditedEgressProxy(
  file: string,
  policy: EgressPolicy,
  ownSecrets: string[],
): Promise<AuditedProxy> {
  const log = new AuditLog<AuditEntry>(file);
  const proxy = new EgressProxy({
    decide: (request) => decideEgress(policy, request),
    audit: (entry) => {
      log.write(entry);
    },
    resolve: () => Promise.resolve(["127.0.0.1"]),
    inspector: new DlpInspector({ ownSecrets }),
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  return {
    proxy,
    stop: async () => {
      await proxy.stop();
      await log.close();
    },
  };
}

export interface RunningProxy {
  port: number;
  audits: AuditEntry[];
  bottleCa: BottleCa;
}

export async function withInterceptingProxy(
  policy: EgressPolicy,
  upstreamCa: BottleCa,
  options: Partial<EgressProxyOptions>,
  body: (running: RunningProxy) => Promise<void>,
): Promise<void> {
  const bottleCa = await createBottleCa("test-bottle");
  const audits: AuditEntry[] = [];
  const proxy = new EgressProxy({
    decide: (request) => decideEgress(policy, request),
    audit: (entry) => audits.push(entry),
    resolve: () => Promise.resolve(["127.0.0.1"]),
    ca: bottleCa,
    upstreamCa: [upstreamCa.certPem],
    ...options,
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  try {
    await body({ port: proxy.address(), audits, bottleCa });
  } finally {
    await proxy.stop();
  }
}

/** A CONNECT tunnel through the proxy, then TLS to `host` trusting the bottle's CA. */
export function interceptedSocket(
  proxyPort: number,
  host: string,
  port: number,
  ca: string,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = net2.connect(proxyPort, "127.0.0.1");
    socket.once("error", reject);
    socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (!head.startsWith("HTTP/1.1 200")) {
        reject(new Error(head));
        return;
      }
      const secure = tls.connect({ socket, servername: host, ca, ALPNProtocols: ["http/1.1"] });
      secure.once("secureConnect", () => {
        resolve(secure);
      });
      secure.once("error", reject);
    };
    socket.on("data", onData);
  });
}

/** Collects what a socket receives until it closes (or `ms` pass). */
export function collectUntilClose(socket: net.Socket, ms = 5_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("close", done);
    socket.once("error", () => undefined);
  });
}

export function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = (): void => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** A client frame (masked) with the given first byte and payload; `length` overrides nothing. */
export function clientFrame(b0: number, payload: Buffer | string): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  let head: Buffer;
  if (data.length < 126) head = Buffer.from([b0, 0x80 | data.length]);
  else if (data.length < 65536) {
    head = Buffer.from([b0, 0x80 | 126, 0, 0]);
    head.writeUInt16BE(data.length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(data.length), 2);
  }
  return Buffer.concat([head, mask, masked]);
}

/** Unmasks the client frames an upstream received, in order (payloads only). */
export function unmaskFrames(bytes: Buffer): { b0: number; payload: Buffer }[] {
  const out: { b0: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const b0 = bytes[at] ?? 0;
    let length = (bytes[at + 1] ?? 0) & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(offset));
      offset += 8;
    }
    const mask = bytes.subarray(offset, offset + 4);
    offset += 4;
    const payload = Buffer.from(bytes.subarray(offset, offset + length));
    for (let i = 0; i < payload.length; i += 1) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    out.push({ b0, payload });
    at = offset + length;
  }
  return out;
}
