/**
 * The egress proxy: an HTTP forward proxy (node:http) that is the agent's only way to the network.
 * It serves on a unix socket in the bottle's socket folder (the relay in the agent container maps
 * 127.0.0.1:3128 to it), or on TCP for tests.
 *
 * Contract:
 * - `CONNECT host:port` is judged on host and port (egress-policy.ts), then the host name on its
 *   content (labels that carry data), then its address: the name is resolved once, the answer
 *   checked against internal ranges (upstream-address.ts), and that checked address is the one
 *   dialled. Denied: `403` with `X-Bot-Bottle-Denied: <rule>` and a short text for the agent.
 *   Allowed under a `passthrough` rule: `200 Connection Established` and bytes flow both ways.
 *   Allowed otherwise: the tunnel is intercepted (tls-interception.ts) and every request inside is
 *   judged on method and path and checked for secrets.
 * - Absolute-form requests (`GET http://host:port/path`) are judged on host, port, method and
 *   path, checked for secrets, and forwarded to the checked address (forward-request.ts), with
 *   `Host` set to the URL's authority. Origin-form and non-http requests get 400.
 * - Fail closed: a decide callback that throws, or returns anything but an allow, denies (rule
 *   `policy-error` for a throw). An upstream that cannot be reached gives 502.
 * - One audit line per request and per tunnel (when it closes), paths without their query, and
 *   any field taken from the request redacted where the content checks find data in it
 *   (audit-redaction.ts).
 * - Limits (egress-gate.ts): request head size and time, idle connections and tunnels, open
 *   tunnels (503 beyond), inspected body size. Errors on any socket are handled: a bad client or
 *   upstream never crashes the process. stop() destroys every open socket.
 */
import http from "node:http";
import net from "node:net";
import type { BottleCa } from "../../core/tls/bottle-ca.js";
import type { AuditEntry } from "./audit-log.js";
import { pathWithoutQuery } from "./audit-log.js";
import type { ContentInspector, DlpMode } from "./content-inspector.js";

import {
  DENIED_HEADER,
  clientErrorResponse,
  denialText,
  endWith,
  rawResponse,
  statusLine,
} from "./denial.js";
import type { EgressDial, EgressGate, EgressLimits, UpstreamTarget } from "./egress-gate.js";
import { DEFAULT_LIMITS } from "./egress-gate.js";
import type { EgressDecision, EgressRequest } from "./egress-policy.js";
import { displayHost, normalizeRequestHost } from "./egress-policy.js";
import { errorCode, findingDecision, forwardRequest, refuse } from "./forward-request.js";
import { redactAuditEntry } from "./audit-redaction.js";
import { InternalRanges } from "./ip-address.js";
import { methodOverrides } from "./path-rules.js";
import { LeafCertificates } from "./leaf-certificates.js";
import type { TunnelRecord } from "./tls-interception.js";
import { TlsInterception } from "./tls-interception.js";
import type { PickedAddress, Resolver } from "./upstream-address.js";
import { resolveUpstream, systemResolver } from "./upstream-address.js";
import { bridgeWebSocket } from "./websocket-bridge.js";
import type { ListenTarget } from "../gate-listen.js";
import { boundPort, listenGate } from "../gate-listen.js";

export { DENIED_HEADER } from "./denial.js";
export type { EgressDial } from "./egress-gate.js";

export interface EgressProxyOptions {
  /** The policy decision; may throw (that denies). */
  decide: (request: EgressRequest) => EgressDecision;
  /** Receives one entry per request; may throw (ignored). */
  audit: (entry: AuditEntry) => void;
  /** Opens the TCP connection to a checked address; net.connect unless injected. */
  dial?: EgressDial;
  /** Resolves host names; the system resolver unless injected. */
  resolve?: Resolver;
  /** The bottle's CA; without it, a TLS tunnel under an intercept rule is closed. */
  ca?: BottleCa;
  /** Roots trusted for upstream TLS instead of Node's defaults (PEM certificates). */
  upstreamCa?: string[];
  /** Content checks; none when absent. */
  inspector?: ContentInspector;
  /** What a finding does; default block. */
  dlp?: DlpMode;
  limits?: Partial<EgressLimits>;
}

export type { ListenTarget } from "../gate-listen.js";

const POLICY_ERROR: EgressDecision = {
  verdict: "deny",
  rule: "policy-error",
  reason: "policy error: the bottle's policy could not be evaluated, so the request was denied",
};

function ignore(): void {
  // Socket errors end in 'close', which does the cleanup; an unhandled 'error' would crash.
}

/** `host:port` or `[v6]:port`; null when the target is not in that form. */
function parseConnectTarget(target: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@?#%\\]+)):(\d{1,5})$/.exec(target);
  if (match === null) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: normalizeRequestHost(match[1] ?? match[2] ?? ""), port };
}

/** 502 for a name that does not resolve, 403 for an answer the policy refuses. */
function refusalStatus(picked: Extract<PickedAddress, { ok: false }>): number {
  return picked.rule === "unresolvable" ? 502 : 403;
}

export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly gate: EgressGate;
  private readonly interception: TlsInterception;
  private tunnels = 0;

  constructor(options: EgressProxyOptions) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const dial =
      options.dial ?? ((address: string, port: number) => net.connect({ host: address, port }));
    this.gate = {
      decide: (request) => {
        try {
          const decision = options.decide(request);
          if (decision.verdict === "allow") return { ...decision, verdict: "allow" };
          return { ...decision, verdict: "deny" };
        } catch {
          return POLICY_ERROR;
        }
      },
      audit: (entry) => {
        try {
          const inspector = options.inspector;
          options.audit(inspector === undefined ? entry : redactAuditEntry(entry, inspector));
        } catch {
          // An audit sink that fails must not take the gate down with it.
        }
      },
      inspector: options.inspector,
      dlp: options.dlp ?? "block",
      ranges: new InternalRanges(),
      resolve: options.resolve ?? systemResolver,
      dial,
      upstreamCa: options.upstreamCa,
      limits,
      track: (socket) => {
        this.track(socket);
      },
    };
    this.interception = new TlsInterception(
      this.gate,
      options.ca === undefined ? undefined : new LeafCertificates(options.ca),
    );
    this.server = http.createServer({
      requireHostHeader: false,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(5_000, Math.max(100, limits.headersTimeoutMs / 4)),
      requestTimeout: 0,
      keepAliveTimeout: limits.idleTimeoutMs,
    });
    this.server.on("connection", (socket: net.Socket) => {
      this.track(socket);
    });
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      void this.onRequest(req, res);
    });
    this.server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void this.onConnect(req, socket, head);
    });
    this.server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void this.onPlainUpgrade(req, socket, head);
    });
    this.server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
      endWith(socket, clientErrorResponse(error));
    });
    // Accept errors (EMFILE and the like) must not crash the sidecar.
    this.server.on("error", ignore);
  }

  /** Listens on a unix socket (replacing a stale one, then mode 0666) or on TCP. */
  listen(target: ListenTarget): Promise<void> {
    return listenGate(this.server, target);
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    return boundPort(this.server, "the egress proxy");
  }

  /** Open tunnels right now (for tests and health). */
  openTunnels(): number {
    return this.tunnels;
  }

  /** Stops accepting and destroys every open client, upstream and tunnel socket. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => {
        resolve();
      });
    });
    this.server.closeAllConnections();
    this.interception.stop();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("error", ignore);
    socket.once("close", () => this.sockets.delete(socket));
  }

  /** The host check on content (names that carry data); null when clean or DLP is off. */
  private hostFinding(host: string): EgressDecision | null {
    const { inspector, dlp } = this.gate;
    if (inspector === undefined || dlp === "off") return null;
    const [finding] = inspector.inspectHost(host);
    if (finding === undefined || dlp !== "block") return null;
    return findingDecision(finding);
  }

  private async onConnect(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
  ): Promise<void> {
    const started = Date.now();
    const time = new Date(started).toISOString();
    this.track(client);
    const rawTarget = req.url ?? "";
    const parsed = parseConnectTarget(rawTarget);
    const refuseTunnel = (entry: AuditEntry, decision: EgressDecision, status = 403): void => {
      const statusText = statusLine(status);
      const body = denialText(
        `CONNECT to ${displayHost(entry.host)}:${entry.port}`,
        entry.host,
        decision,
      );
      endWith(client, rawResponse(statusText, { [DENIED_HEADER]: decision.rule ?? "deny" }, body));
      this.gate.audit({
        ...entry,
        verdict: "deny",
        rule: decision.rule,
        reason: decision.reason,
        status,
      });
    };
    if (parsed === null) {
      const reason = "the CONNECT target is not in the form host:port";
      endWith(client, rawResponse("400 Bad Request", {}, `bot-bottle egress proxy: ${reason}.\n`));
      this.gate.audit({
        time,
        kind: "connect",
        method: "CONNECT",
        host: rawTarget.slice(0, 200),
        port: 0,
        path: null,
        verdict: "deny",
        rule: "invalid-request",
        reason,
        status: 400,
      });
      return;
    }

    const decision = this.gate.decide({ host: parsed.host, port: parsed.port });
    const host = decision.host ?? parsed.host;
    const port = parsed.port;
    const entry: AuditEntry = {
      time,
      kind: "connect",
      method: "CONNECT",
      host,
      port,
      path: null,
      verdict: decision.verdict,
      rule: decision.rule,
      reason: decision.reason,
    };
    if (decision.verdict !== "allow") {
      refuseTunnel(entry, decision);
      return;
    }
    const finding = this.hostFinding(host);
    if (finding !== null) {
      refuseTunnel(entry, finding);
      return;
    }
    if (this.tunnels >= this.gate.limits.maxTunnels) {
      refuseTunnel(
        entry,
        {
          verdict: "deny",
          rule: "too-many-tunnels",
          reason: `the bottle already has ${this.gate.limits.maxTunnels} tunnels open; close some and retry`,
        },
        503,
      );
      return;
    }
    this.tunnels += 1;
    client.once("close", () => {
      this.tunnels -= 1;
    });
    client.setTimeout(this.gate.limits.idleTimeoutMs, () => client.destroy());

    const picked = await resolveUpstream(host, decision.match, this.gate.resolve, this.gate.ranges);
    if (!picked.ok) {
      refuseTunnel(
        entry,
        { verdict: "deny", rule: picked.rule, reason: picked.reason },
        refusalStatus(picked),
      );
      return;
    }
    if (client.destroyed) return;
    const withAddress = { ...entry, address: picked.address };
    if (decision.match?.tls === "passthrough") {
      this.passThrough(client, head, withAddress, started);
      return;
    }
    const record: TunnelRecord = {};
    client.once("close", () => {
      this.gate.audit({
        ...withAddress,
        ...(record.denied === undefined ? {} : { verdict: "deny", ...record.denied }),
        status: 200,
        bytes_up: client.bytesRead,
        bytes_down: client.bytesWritten,
        duration_ms: Date.now() - started,
        ...(record.error === undefined ? {} : { error: record.error }),
      });
    });
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    this.interception.accept(client, head, {
      host,
      port,
      address: picked.address,
      rule: decision.match,
      record,
    });
  }

  private passThrough(client: net.Socket, head: Buffer, entry: AuditEntry, started: number): void {
    const { host, port } = entry;
    let upstream: net.Socket;
    try {
      upstream = this.gate.dial(entry.address ?? host, port);
      this.track(upstream);
    } catch (error) {
      this.failTunnel(client, host, port, errorCode(error));
      this.gate.audit({ ...entry, status: 502, error: errorCode(error), duration_ms: 0 });
      return;
    }

    let established = false;
    let failure: string | undefined;
    upstream.once("connect", () => {
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      established = true;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.once("error", (error) => {
      failure = errorCode(error);
      if (!established) this.failTunnel(client, host, port, failure);
      else client.destroy();
    });
    let clientGone = false;
    client.once("close", () => {
      clientGone = true;
      upstream.destroy();
    });
    upstream.once("close", () => {
      // A clean end after the tunnel was up was already passed on by pipe (after the last byte).
      if (!established && failure === undefined) {
        failure = clientGone ? "the client left first" : "the upstream closed before connecting";
        this.failTunnel(client, host, port, failure);
      }
      this.gate.audit({
        ...entry,
        status: established ? 200 : 502,
        bytes_up: upstream.bytesWritten,
        bytes_down: upstream.bytesRead,
        duration_ms: Date.now() - started,
        ...(failure === undefined ? {} : { error: failure }),
      });
    });
  }

  private failTunnel(client: net.Socket, host: string, port: number, code: string): void {
    const body = `bot-bottle egress proxy: could not connect to ${displayHost(host)}:${port} (${code}).\n`;
    endWith(client, rawResponse("502 Bad Gateway", {}, body));
  }

  /**
   * Judges a plain (absolute-form) request up to its pinned address. Answers the refusal itself
   * and returns null, or returns what forwarding needs.
   */
  private async judgePlain(
    req: http.IncomingMessage,
    kind: AuditEntry["kind"],
    answer: (entry: AuditEntry, decision: EgressDecision, status?: number) => void,
  ): Promise<{ target: UpstreamTarget; entry: AuditEntry; pathAndQuery: string } | null> {
    const started = Date.now();
    const time = new Date(started).toISOString();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "";
    let url: URL | null = null;
    if (/^(http|ws):\/\//i.test(rawUrl)) {
      try {
        url = new URL(rawUrl);
      } catch {
        url = null;
      }
    }
    if (url === null) {
      const reason = /^(http|ws):\/\//i.test(rawUrl)
        ? "the URL is not valid (its host or port holds characters a URL cannot have, such as %00 or spaces); send a plain host name"
        : /^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl)
          ? "only http:// URLs can be sent as proxy requests; use CONNECT for https"
          : "this is a forward proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port";
      answer(
        {
          time,
          kind,
          method,
          host: "",
          port: 0,
          path: pathWithoutQuery(rawUrl).slice(0, 200),
          verdict: "deny",
          rule: "invalid-request",
          reason,
        },
        { verdict: "deny", rule: "invalid-request", reason },
        400,
      );
      return null;
    }
    const port = url.port === "" ? 80 : Number(url.port);
    const decision = this.gate.decide({
      host: url.hostname,
      port,
      method,
      path: url.pathname,
      overrides: methodOverrides(req.headers, `${url.pathname}${url.search}`),
    });
    const host = decision.host ?? normalizeRequestHost(url.hostname);
    const entry: AuditEntry = {
      time,
      kind,
      method,
      host,
      port,
      path: url.pathname,
      verdict: decision.verdict,
      rule: decision.rule,
      reason: decision.reason,
    };
    if (decision.verdict !== "allow") {
      answer(entry, decision);
      return null;
    }
    const finding = this.hostFinding(host);
    if (finding !== null) {
      answer(entry, finding);
      return null;
    }
    const picked = await resolveUpstream(host, decision.match, this.gate.resolve, this.gate.ranges);
    if (!picked.ok) {
      answer(
        entry,
        { verdict: "deny", rule: picked.rule, reason: picked.reason },
        refusalStatus(picked),
      );
      return null;
    }
    return {
      target: { host, port, address: picked.address, secure: false, rule: decision.match },
      entry: { ...entry, address: picked.address },
      pathAndQuery: `${url.pathname}${url.search}`,
    };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.on("error", ignore);
    const judged = await this.judgePlain(req, "http", (entry, decision, status) => {
      req.resume();
      if (status === 400) {
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
        res.end(`bot-bottle egress proxy: ${decision.reason}.\n`);
        this.gate.audit({ ...entry, status: 400 });
        return;
      }
      refuse(this.gate, res, entry, decision, status);
    });
    if (judged === null) return;
    await forwardRequest(this.gate, req, res, { ...judged, agent: undefined });
  }

  private async onPlainUpgrade(
    req: http.IncomingMessage,
    socket: net.Socket,
    head: Buffer,
  ): Promise<void> {
    socket.on("error", ignore);
    const judged = await this.judgePlain(req, "websocket", (entry, decision, status = 403) => {
      const statusText = statusLine(status);
      endWith(
        socket,
        rawResponse(
          statusText,
          { [DENIED_HEADER]: decision.rule ?? "deny" },
          denialText(`a WebSocket to ${displayHost(entry.host)}`, entry.host, decision),
        ),
      );
      this.gate.audit({
        ...entry,
        verdict: "deny",
        rule: decision.rule,
        reason: decision.reason,
        status,
      });
    });
    if (judged === null) return;
    bridgeWebSocket(this.gate, req, socket, head, judged);
  }
}
