/**
 * The egress proxy: an HTTP forward proxy (node:http) that is the agent's only way to the network.
 * It serves on a unix socket in the bottle's socket folder (the relay in the agent container maps
 * 127.0.0.1:3128 to it), or on TCP for tests.
 *
 * Contract:
 * - `CONNECT host:port` is judged on host and port. Allowed: the upstream is dialled, the client
 *   gets `200 Connection Established` and bytes flow both ways; one audit entry is written when
 *   the tunnel closes (bytes up/down, duration). Denied: `403` with `X-Bot-Bottle-Denied: <rule>`
 *   and a short text for the agent, then the connection is closed.
 * - Absolute-form requests (`GET http://host:port/path`) are judged on host, port, method and
 *   path. Allowed: forwarded to that host and port with hop-by-hop and `Proxy-*` headers removed
 *   and `Host` set to the URL's authority (a different `Host` would let the agent reach another
 *   site than the one judged); the response is streamed back and audited with its status. Denied:
 *   the same 403 form. Origin-form and non-http requests get 400.
 * - Fail closed: a decide callback that throws, or returns anything but an allow, denies (rule
 *   `policy-error` for a throw). An upstream that cannot be reached gives 502, audited.
 * - Every request the proxy can parse is audited exactly once; paths without their query string.
 * - Errors on any socket are handled: a bad client or upstream never crashes the process.
 * - stop() closes the server and destroys every open client, upstream and tunnel socket.
 *
 * TLS interception, DNS pinning and content checks (DLP) are not done here yet.
 */
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AuditEntry } from "./audit-log.js";
import { pathWithoutQuery } from "./audit-log.js";
import type { EgressDecision, EgressRequest } from "./egress-policy.js";
import { displayHost, normalizeRequestHost } from "./egress-policy.js";

/** Opens a TCP connection to an upstream; net.connect unless a test or later issue injects one. */
export type EgressDial = (host: string, port: number) => net.Socket;

export interface EgressProxyOptions {
  /** The policy decision; may throw (that denies). */
  decide: (request: EgressRequest) => EgressDecision;
  /** Receives one entry per request; may throw (ignored). */
  audit: (entry: AuditEntry) => void;
  dial?: EgressDial;
}

export type ListenTarget = { path: string } | { host: string; port: number };

export const DENIED_HEADER = "X-Bot-Bottle-Denied";

/** How long a refused client may keep its side open after the final response. */
const END_GRACE_MS = 5_000;

const POLICY_ERROR: EgressDecision = {
  verdict: "deny",
  rule: "policy-error",
  reason: "policy error: the bottle's policy could not be evaluated, so the request was denied",
};

/** Headers that belong to one connection, never forwarded (plus any the Connection header names). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "http2-settings",
]);

function ignore(): void {
  // Socket errors end in 'close', which does the cleanup; an unhandled 'error' would crash.
}

function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ?? error.message;
  }
  return String(error);
}

/** A header value that cannot break the response: printable ASCII only. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

function filterHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set((headers.connection ?? "").split(",").map((t) => t.trim().toLowerCase()));
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    if (name.startsWith("proxy-")) continue;
    out[name] = value;
  }
  return out;
}

/** `host:port` or `[v6]:port`; null when the target is not in that form. */
function parseConnectTarget(target: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@?#%\\]+)):(\d{1,5})$/.exec(target);
  if (match === null) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: normalizeRequestHost(match[1] ?? match[2] ?? ""), port };
}

function denialText(what: string, host: string, decision: EgressDecision): string {
  return [
    `bot-bottle blocked ${what}.`,
    `Reason: ${decision.reason}.`,
    `If the task needs it, ask the operator to allow it, for example \`bottle policy <identity> allow ${displayHost(host)}\`.`,
    "",
  ].join("\n");
}

function rawResponse(status: string, headers: Record<string, string>, body: string): string {
  const lines = [`HTTP/1.1 ${status}`];
  const all = {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    Connection: "close",
    ...headers,
  };
  for (const [name, value] of Object.entries(all)) lines.push(`${name}: ${headerSafe(value)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/**
 * Sends a final response on a raw client socket and closes it. Whatever the client sends meanwhile
 * is read and dropped (unread bytes would turn the close into a reset that can hide the response);
 * a client that never closes its side is cut after a grace period.
 */
function endWith(client: net.Socket, response: string): void {
  client.resume();
  client.setTimeout(END_GRACE_MS, () => {
    client.destroy();
  });
  client.end(response);
}

function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket())
    throw new Error(`${socketPath} exists and is not a socket; not removing it`);
  fs.unlinkSync(socketPath);
}

export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly dial: EgressDial;

  constructor(private readonly options: EgressProxyOptions) {
    this.dial = options.dial ?? ((host, port) => net.connect({ host, port }));
    this.server = http.createServer({ requireHostHeader: false });
    this.server.on("connection", (socket: net.Socket) => {
      this.track(socket);
    });
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onRequest(req, res);
    });
    this.server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      this.onConnect(req, socket, head);
    });
    this.server.on("clientError", (_error: Error, socket: net.Socket) => {
      const body = "bot-bottle egress proxy: the request could not be parsed.\n";
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      socket.setTimeout(END_GRACE_MS, () => {
        socket.destroy();
      });
      socket.end(rawResponse("400 Bad Request", {}, body));
    });
    // Accept errors (EMFILE and the like) must not crash the sidecar.
    this.server.on("error", ignore);
  }

  /** Listens on a unix socket (replacing a stale one, then mode 0666) or on TCP. */
  async listen(target: ListenTarget): Promise<void> {
    if ("path" in target) removeStaleSocket(target.path);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      const done = (): void => {
        this.server.off("error", reject);
        resolve();
      };
      if ("path" in target) this.server.listen(target.path, done);
      else this.server.listen(target.port, target.host, done);
    });
    // The agent runs as another user than the sidecar; the socket folder is its only access.
    if ("path" in target) fs.chmodSync(target.path, 0o666);
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    const bound = this.server.address();
    if (bound === null || typeof bound === "string") {
      throw new Error("the egress proxy is not listening on TCP");
    }
    return bound.port;
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
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("error", ignore);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private decide(request: EgressRequest): EgressDecision {
    try {
      const decision = this.options.decide(request);
      if (decision.verdict === "allow") return { ...decision, verdict: "allow" };
      return { ...decision, verdict: "deny" };
    } catch {
      return POLICY_ERROR;
    }
  }

  private audit(entry: AuditEntry): void {
    try {
      this.options.audit(entry);
    } catch {
      // An audit sink that fails must not take the gate down with it.
    }
  }

  private openUpstream(host: string, port: number): net.Socket {
    const socket = this.dial(host, port);
    this.track(socket);
    return socket;
  }

  private onConnect(req: http.IncomingMessage, client: net.Socket, head: Buffer): void {
    const started = Date.now();
    const time = new Date(started).toISOString();
    this.track(client);
    const rawTarget = req.url ?? "";
    const target = parseConnectTarget(rawTarget);
    if (target === null) {
      const reason = "the CONNECT target is not in the form host:port";
      endWith(client, rawResponse("400 Bad Request", {}, `bot-bottle egress proxy: ${reason}.\n`));
      this.audit({
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

    const { host, port } = target;
    const decision = this.decide({ host, port });
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
      const body = denialText(`CONNECT to ${displayHost(host)}:${port}`, host, decision);
      const headers = { [DENIED_HEADER]: decision.rule ?? "deny" };
      endWith(client, rawResponse("403 Forbidden", headers, body));
      this.audit({ ...entry, status: 403 });
      return;
    }

    let upstream: net.Socket;
    try {
      upstream = this.openUpstream(host, port);
    } catch (error) {
      this.failTunnel(client, host, port, errorCode(error));
      this.audit({ ...entry, status: 502, error: errorCode(error), duration_ms: 0 });
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
    client.once("close", () => {
      upstream.destroy();
    });
    let clientGone = false;
    client.once("close", () => {
      clientGone = true;
    });
    upstream.once("close", () => {
      // A clean end after the tunnel was up was already passed on by pipe (after the last byte).
      if (!established && failure === undefined) {
        failure = clientGone ? "the client left first" : "the upstream closed before connecting";
        this.failTunnel(client, host, port, failure);
      }
      this.audit({
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
    if (!client.writable) {
      client.destroy();
      return;
    }
    const body = `bot-bottle egress proxy: could not connect to ${displayHost(host)}:${port} (${code}).\n`;
    endWith(client, rawResponse("502 Bad Gateway", {}, body));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = Date.now();
    const time = new Date(started).toISOString();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "";
    res.on("error", ignore);

    let url: URL | null = null;
    if (/^http:\/\//i.test(rawUrl)) {
      try {
        url = new URL(rawUrl);
      } catch {
        url = null;
      }
    }
    if (url === null) {
      const reason = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl)
        ? "only http:// URLs can be sent as proxy requests; use CONNECT for https"
        : "this is a forward proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port";
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(`bot-bottle egress proxy: ${reason}.\n`);
      this.audit({
        time,
        kind: "http",
        method,
        host: "",
        port: 0,
        path: pathWithoutQuery(rawUrl).slice(0, 200),
        verdict: "deny",
        rule: "invalid-request",
        reason,
        status: 400,
      });
      return;
    }

    const host = normalizeRequestHost(url.hostname);
    const port = url.port === "" ? 80 : Number(url.port);
    const decision = this.decide({ host, port, method, path: url.pathname });
    const entry: AuditEntry = {
      time,
      kind: "http",
      method,
      host,
      port,
      path: url.pathname,
      verdict: decision.verdict,
      rule: decision.rule,
      reason: decision.reason,
    };
    if (decision.verdict !== "allow") {
      const body = denialText(
        `${method} ${displayHost(host)}:${port}${url.pathname}`,
        host,
        decision,
      );
      res.writeHead(403, {
        "content-type": "text/plain; charset=utf-8",
        [DENIED_HEADER]: headerSafe(decision.rule ?? "deny"),
        connection: "close",
      });
      res.end(body);
      this.audit({ ...entry, status: 403 });
      return;
    }
    this.forward(req, res, url, host, port, entry, started);
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    host: string,
    port: number,
    entry: AuditEntry,
    started: number,
  ): void {
    const headers = filterHeaders(req.headers);
    headers.host = url.host;
    // The body was de-chunked by the parser; chunk it again so the upstream sees the same framing.
    if (
      req.headers["transfer-encoding"] !== undefined &&
      req.headers["content-length"] === undefined
    ) {
      headers["transfer-encoding"] = "chunked";
    }

    let bytesUp = 0;
    let bytesDown = 0;
    let failure: string | undefined;
    const finish = (): void => {
      this.audit({
        ...entry,
        status: res.statusCode,
        bytes_up: bytesUp,
        bytes_down: bytesDown,
        duration_ms: Date.now() - started,
        ...(failure === undefined ? {} : { error: failure }),
      });
    };
    const badGateway = (code: string): void => {
      failure = code;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(`bot-bottle egress proxy: could not reach ${displayHost(host)}:${port} (${code}).\n`);
    };
    res.once("close", finish);

    let upstream: http.ClientRequest;
    try {
      upstream = http.request({
        host,
        port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        createConnection: () => this.openUpstream(host, port),
      });
    } catch (error) {
      req.resume();
      badGateway(errorCode(error));
      return;
    }

    upstream.on("error", (error) => {
      badGateway(errorCode(error));
    });
    upstream.on("response", (upstreamRes) => {
      upstreamRes.on("error", (error) => {
        failure = errorCode(error);
        res.destroy();
      });
      upstreamRes.on("data", (chunk: Buffer) => {
        bytesDown += chunk.length;
      });
      res.writeHead(
        upstreamRes.statusCode ?? 502,
        upstreamRes.statusMessage,
        filterHeaders(upstreamRes.headers),
      );
      upstreamRes.pipe(res);
    });
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on("data", (chunk: Buffer) => {
      bytesUp += chunk.length;
    });
    req.on("error", () => {
      upstream.destroy();
    });
    req.pipe(upstream);
  }
}
