/**
 * The inside of an allowed, intercepted tunnel. After `200 Connection Established` the first byte
 * the agent sends tells TLS (a handshake record, 0x16) from plain HTTP:
 *
 * - TLS is opened with a leaf certificate for the CONNECT host, signed by the bottle's CA. The SNI
 *   name, when sent, must be the CONNECT host (no domain fronting); otherwise the handshake is
 *   refused and the tunnel audited as `domain-fronting`. Only HTTP/1.1 is offered (ALPN).
 * - Anything else is read as HTTP/1.1; a tunnel that carries neither is closed (the gate never
 *   passes bytes it cannot check through an intercepted tunnel).
 *
 * The requests inside go to one internal HTTP server. Each is judged like a plain request, with
 * method and path now visible, and must name the CONNECT host in `Host` (or its absolute URL):
 * a mismatch is refused as `domain-fronting`. Allowed requests are content-checked and forwarded
 * to the tunnel's pinned address, over TLS verified for that host, on connections kept alive for
 * the tunnel's life. WebSocket upgrades are bridged (websocket-bridge.ts).
 *
 * The first upstream connection (TCP and TLS, to the CONNECT host, already allowed) is opened as
 * soon as the agent's handshake starts, so both handshakes run at once; no request byte goes up
 * before its request has been judged and checked.
 */
import http from "node:http";
import type net from "node:net";
import tls from "node:tls";
import type { AuditEntry } from "./egress-audit-entry.js";
import { pathWithoutQuery } from "../shared/audit-log.js";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";
import type { EgressDecision } from "./egress-policy.js";
import { displayHost, normalizeRequestHost } from "./egress-policy.js";
import { clientErrorResponse, endWith } from "./denial.js";
import { forwardRequest, refuse } from "./forward-request.js";
import { readIpLiteral } from "./ip-address.js";
import type { LeafCertificates } from "./leaf-certificates.js";
import type { PinnedAgent } from "./upstream-connection.js";
import { UpstreamPools } from "./upstream-pool.js";
import { methodOverrides } from "./path-rules.js";
import { bridgeWebSocket } from "./websocket-bridge.js";

/** What the proxy learns back about a tunnel, for its own audit line. */
export interface TunnelRecord {
  /** Set when the tunnel was refused after it opened (fronting, not TLS or HTTP). */
  denied?: { rule: string; reason: string };
  error?: string;
}

interface Tunnel {
  host: string;
  port: number;
  address: string;
  rule: UpstreamTarget["rule"];
  record: TunnelRecord;
  /** Set once the first byte is seen. */
  target?: UpstreamTarget;
  agent?: PinnedAgent;
}

const TLS_HANDSHAKE = 0x16;

function fronting(host: string, named: string): EgressDecision {
  if (named === "") {
    return {
      verdict: "deny",
      rule: "domain-fronting",
      reason: `the request inside the tunnel to ${displayHost(host)} names no host (no Host header, or an unreadable URL); send Host: ${displayHost(host)}`,
    };
  }
  return {
    verdict: "deny",
    rule: "domain-fronting",
    reason: `the request names ${displayHost(named)} inside a tunnel opened to ${displayHost(host)}; a tunnel serves only the host it was opened to, so open one to ${displayHost(named)}`,
  };
}

/** The host a request inside a tunnel names: its absolute URL's, else its Host header's. */
function namedHost(req: http.IncomingMessage): string {
  const url = req.url ?? "";
  let authority = req.headers.host ?? "";
  if (!url.startsWith("/")) {
    try {
      authority = new URL(url).host;
    } catch {
      return "";
    }
  }
  const bare = authority.startsWith("[")
    ? authority.slice(0, authority.indexOf("]") + 1)
    : authority.replace(/:\d*$/, "");
  const name = normalizeRequestHost(bare);
  return readIpLiteral(name)?.address ?? name;
}

function pathOf(req: http.IncomingMessage): string {
  const url = req.url ?? "/";
  if (url.startsWith("/")) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return "/";
  }
}

export class TlsInterception {
  private readonly inner: http.Server;
  private readonly tunnels = new WeakMap<net.Socket, Tunnel>();
  private readonly pools: UpstreamPools;

  constructor(
    private readonly gate: EgressGate,
    private readonly leaves: LeafCertificates | undefined,
  ) {
    this.pools = new UpstreamPools(gate);
    this.inner = http.createServer({
      maxHeaderSize: gate.limits.maxHeaderBytes,
      headersTimeout: gate.limits.headersTimeoutMs,
      requestTimeout: 0,
      keepAliveTimeout: gate.limits.idleTimeoutMs,
    });
    this.inner.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onRequest(req, res);
    });
    this.inner.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.onUpgrade(req, socket, head);
    });
    this.inner.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
      endWith(socket, clientErrorResponse(error));
    });
  }

  /** Takes over an established tunnel's client socket. */
  accept(client: net.Socket, head: Buffer, tunnel: Omit<Tunnel, "target" | "agent">): void {
    const state: Tunnel = { ...tunnel };
    const start = (first: Buffer): void => {
      client.pause();
      client.unshift(first);
      const secure = first[0] === TLS_HANDSHAKE;
      const target: UpstreamTarget = {
        host: state.host,
        port: state.port,
        address: state.address,
        secure,
        rule: state.rule,
      };
      state.target = target;
      state.agent = this.pools.agentFor(target);
      if (!secure) {
        this.serve(client, state);
        return;
      }
      // The upstream's TCP and TLS handshakes run while the agent's handshake with us does.
      if (this.leaves !== undefined) state.agent.warm();
      void this.openTls(client, state);
    };
    if (head.length > 0) {
      start(head);
      return;
    }
    client.once("data", (chunk: Buffer) => {
      start(chunk);
    });
  }

  private serve(socket: net.Socket, state: Tunnel): void {
    this.tunnels.set(socket, state);
    this.inner.emit("connection", socket);
    socket.resume();
  }

  private async openTls(client: net.Socket, state: Tunnel): Promise<void> {
    if (this.leaves === undefined) {
      state.record.error = "TLS interception is not configured";
      client.destroy();
      return;
    }
    let context: tls.SecureContext;
    try {
      context = await this.leaves.secureContext(state.host);
    } catch {
      state.record.error = "could not make a certificate";
      client.destroy();
      return;
    }
    const secure = new tls.TLSSocket(client, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ["http/1.1"],
      SNICallback: (servername, done) => {
        const name = readIpLiteral(servername.toLowerCase())?.address ?? servername.toLowerCase();
        if (name.replace(/\.$/, "") === state.host) {
          done(null, context);
          return;
        }
        const decision = fronting(state.host, name);
        state.record.denied = { rule: "domain-fronting", reason: decision.reason };
        done(new Error("SNI does not match the CONNECT host"));
      },
    });
    this.gate.track(secure);
    secure.once("error", (error: NodeJS.ErrnoException) => {
      state.record.error ??= `TLS: ${error.code ?? error.message}`;
      client.destroy();
    });
    this.serve(secure, state);
  }

  private tunnelOf(req: http.IncomingMessage): Tunnel | undefined {
    return this.tunnels.get(req.socket);
  }

  private judge(req: http.IncomingMessage, tunnel: Tunnel, kind: AuditEntry["kind"]) {
    const started = Date.now();
    const method = req.method ?? "GET";
    const path = pathOf(req);
    const entry: AuditEntry = {
      time: new Date(started).toISOString(),
      kind,
      method,
      host: tunnel.host,
      port: tunnel.port,
      path: pathWithoutQuery(path),
      verdict: "deny",
      rule: null,
      reason: "",
      address: tunnel.address,
    };
    const named = namedHost(req);
    if (named !== tunnel.host) return { entry, path, decision: fronting(tunnel.host, named) };
    const decision = this.gate.decide({
      host: tunnel.host,
      port: tunnel.port,
      method,
      path,
      overrides: methodOverrides(req.headers, path),
    });
    return {
      entry: { ...entry, verdict: decision.verdict, rule: decision.rule, reason: decision.reason },
      path,
      decision,
    };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on("error", () => undefined);
    const tunnel = this.tunnelOf(req);
    if (tunnel?.target === undefined) {
      res.destroy();
      return;
    }
    const kind = tunnel.target.secure ? "https" : "http";
    const { entry, path, decision } = this.judge(req, tunnel, kind);
    if (decision.verdict !== "allow") {
      req.resume();
      refuse(this.gate, res, entry, decision);
      return;
    }
    void forwardRequest(this.gate, req, res, {
      target: tunnel.target,
      pathAndQuery: path,
      entry,
      agent: tunnel.agent,
      rule: decision.match,
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on("error", () => undefined);
    const tunnel = this.tunnelOf(req);
    if (tunnel?.target === undefined) {
      socket.destroy();
      return;
    }
    const { entry, path, decision } = this.judge(req, tunnel, "websocket");
    if (decision.verdict !== "allow") {
      const res = new http.ServerResponse(req);
      res.assignSocket(socket);
      res.on("finish", () => socket.destroy());
      refuse(this.gate, res, entry, decision);
      return;
    }
    bridgeWebSocket(this.gate, req, socket, head, {
      target: tunnel.target,
      pathAndQuery: path,
      entry,
      rule: decision.match,
    });
  }

  stop(): void {
    this.pools.destroy();
    this.inner.closeAllConnections();
  }
}
