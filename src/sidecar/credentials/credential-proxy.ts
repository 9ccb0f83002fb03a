/**
 * The credential proxy: the agent's only way to the model API and other token-bearing upstreams.
 * It serves on a unix socket (the relay maps 127.0.0.1:3129 to it), or on TCP for tests.
 *
 * Contract (routing and headers in credential-routes.ts):
 * - A request target that could leave its route's base path (dot segments, encoded separators,
 *   `//`, absolute-form; route-decision.ts) is refused with 400 and nothing is sent upstream.
 * - A request under a route is forwarded to the route's upstream with the real token injected and
 *   the agent's own credentials removed. Tokens arrive after start (`setTokens`); until then a
 *   route answers 503. A path under no route answers 404, naming the routes.
 * - What is forwarded (path, query, header names and values, body) is scanned for the bottle's
 *   own secrets (every route token, since the agent never holds one, and the git secrets given
 *   by `setOwnSecrets`; own-secret-matcher.ts): a hit is refused with 403, nothing sent, and the
 *   audit entry names no value. Request bodies are therefore read whole first (up to 32 MiB, 413).
 * - Response bodies stream without buffering: the response head is sent as soon as it arrives,
 *   Nagle is off, nothing is compressed; server-sent events reach the agent event by event.
 * - Upstream connections are kept alive, one pool per route (route-agents.ts): a connection never
 *   carries another route's requests.
 * - Upstream TLS is verified (Node's roots, or `upstreamCa`). No connection: 502. No response
 *   head in `timeoutMs`, or silence for `idleMs`: 504. Errors come in Anthropic's error shape.
 * - No own secret reaches the agent (response-guard.ts): a response header value holding one, in
 *   any form, is replaced; a body that carries one (raw in any case, percent, hex, base64, a long
 *   piece, split across chunks) is cut off before any byte of it goes out: the last characters
 *   of a chunk that could begin one wait for the next chunk. A compressed body (gzip, deflate,
 *   br) is decompressed, judged and sent on decompressed; one in another encoding is refused.
 * - One audit entry per request (route, method, path without query, status, bytes, duration);
 *   never a header or a body. A client that leaves aborts the upstream request.
 */
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { BUFFERED_BYTES, GATE_CONNECTIONS } from "../../core/contract/sidecar-limits.js";
import { BUFFER_FULL, BufferBudget } from "../shared/buffer-budget.js";
import type { ListenTarget } from "../shared/gate-listen.js";
import { GateServer, guardedSink } from "../shared/gate-server.js";
import type { CredentialRoute } from "./credential-routes.js";
import { upstreamHeaders } from "./credential-routes.js";
import { OwnSecretMatcher } from "./own-secret-matcher.js";
import { decoderFor } from "./response-decoding.js";
import { ResponseGuard, SecretForms } from "./response-guard.js";
import { decideRoute } from "./route-decision.js";
import { RouteAgents, shouldRetry } from "./route-agents.js";

export interface CredentialAuditEntry {
  time: string;
  route: string | null;
  method: string;
  path: string;
  status: number;
  bytes_up: number;
  bytes_down: number;
  duration_ms: number;
  error?: string;
}

export interface CredentialProxyOptions {
  routes: readonly CredentialRoute[];
  audit: (entry: CredentialAuditEntry) => void;
  /** Roots for upstream TLS instead of Node's defaults. */
  upstreamCa?: string[];
  /** Time to the upstream's response head. */
  timeoutMs?: number;
  /** Silence on an open upstream exchange. */
  idleMs?: number;
  /** Open connections at once (default GATE_CONNECTIONS.credentials); more get 503. */
  maxConnections?: number;
  /** Request bodies held in memory, shared with the other gates; its own when absent. */
  budget?: BufferBudget;
}

const REDACTED = "[held by bot-bottle]";
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding"]);
/** Bodies are read whole and scanned before anything is sent; over this, 413. */
const MAX_BODY = 32 * 1024 * 1024;

function errorBody(message: string): string {
  return JSON.stringify({
    type: "error",
    error: { type: "api_error", message: `bot-bottle credential proxy: ${message}` },
  });
}

function errorCode(error: unknown): string {
  return (
    (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : "error")
  );
}

export class CredentialProxy {
  private readonly server: GateServer;
  private readonly budget: BufferBudget;
  private readonly audit: (entry: CredentialAuditEntry) => void;
  private readonly agents: RouteAgents;
  private tokens: Readonly<Record<string, string>> = {};
  private otherSecrets: readonly string[] = [];
  private matcher: { key: string; matcher: OwnSecretMatcher } | undefined;
  private forms: { key: string; forms: SecretForms } | undefined;

  constructor(private readonly options: CredentialProxyOptions) {
    this.audit = guardedSink(options.audit);
    this.agents = new RouteAgents(options.upstreamCa);
    const server = http.createServer((req, res) => {
      this.onRequest(req, res);
    });
    this.server = new GateServer(server, "the credential proxy", {
      maxConnections: options.maxConnections ?? GATE_CONNECTIONS.credentials,
    });
    this.budget = options.budget ?? new BufferBudget(BUFFERED_BYTES);
    server.on("connection", (socket: net.Socket) => {
      socket.setNoDelay(true);
    });
  }

  /** Replaces the tokens, by route name; effective for the next request. */
  setTokens(tokens: Readonly<Record<string, string>>): void {
    this.tokens = { ...tokens };
  }

  /** Replaces the bottle's other own secrets (git tokens, key lines): never forwarded. */
  setOwnSecrets(secrets: readonly string[]): void {
    this.otherSecrets = [...secrets];
  }

  listen(target: ListenTarget): Promise<void> {
    return this.server.listen(target);
  }

  address(): number {
    return this.server.address();
  }

  async stop(): Promise<void> {
    this.agents.destroy();
    await this.server.stop();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = Date.now();
    const method = req.method ?? "GET";
    const rawPath = req.url ?? "/";
    let pathOnly = rawPath.split("?")[0] ?? "/";
    let bytesUp = 0;
    let bytesDown = 0;
    let failure: string | undefined;
    // The audit and the answers name the path: never one that carries an own secret, even when
    // the request is refused for another reason first.
    if (this.ownSecrets().foundIn(rawPath)) pathOnly = REDACTED;
    const decision = decideRoute(this.options.routes, rawPath);
    const route = decision.kind === "forward" ? decision.route : undefined;
    res.on("error", () => undefined);
    res.once("close", () => {
      this.audit({
        time: new Date(started).toISOString(),
        route: route?.name ?? null,
        method,
        path: pathOnly,
        status: res.statusCode,
        bytes_up: bytesUp,
        bytes_down: bytesDown,
        duration_ms: Date.now() - started,
        ...(failure === undefined ? {} : { error: failure }),
      });
    });
    const fail = (status: number, message: string): void => {
      req.resume();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, { "content-type": "application/json", connection: "close" });
      res.end(errorBody(message));
    };
    if (decision.kind === "refuse") {
      fail(decision.status, `${decision.reason}; send a plain path under a route`);
      return;
    }
    if (decision.kind === "none") {
      const known = this.options.routes.map((r) => r.path).join(", ") || "none";
      fail(404, `no credential route for ${pathOnly}; routes: ${known}`);
      return;
    }
    const { route: chosen, url } = decision;
    const token = this.tokens[chosen.name];
    if (token === undefined || token === "") {
      fail(503, `the token of route ${chosen.name} has not been handed over yet; retry shortly`);
      return;
    }
    const secrets = this.ownSecrets();
    if (secrets.foundIn(rawPath) || secrets.foundIn(req.rawHeaders.join("\n"))) {
      failure = "the request carried one of the bottle's own secrets";
      fail(403, "the request carries one of the bottle's own secrets; it was not sent");
      return;
    }
    const chunks: Buffer[] = [];
    // The body is held until the request is done, against the sidecar's shared budget.
    const hold = this.budget.hold();
    res.once("close", () => {
      chunks.length = 0;
      hold.release();
    });
    let overBudget = false;
    req.on("data", (chunk: Buffer) => {
      bytesUp += chunk.length;
      if (bytesUp > MAX_BODY || overBudget) return;
      if (!hold.take(chunk.length)) {
        // Answered at once; the rest of the body is read and dropped, never held.
        overBudget = true;
        chunks.length = 0;
        hold.release();
        failure = "buffer budget";
        fail(503, BUFFER_FULL);
        return;
      }
      chunks.push(chunk);
    });
    req.once("error", () => res.destroy());
    req.once("end", () => {
      if (overBudget) return;
      if (bytesUp > MAX_BODY) {
        failure = "body too large";
        fail(413, `the request body is over ${MAX_BODY} bytes`);
        return;
      }
      const body = Buffer.concat(chunks);
      // Compressed without a Content-Encoding too (the DLP's decompression; a bomb is refused).
      if (secrets.foundInBody(body.toString("latin1"), 8 * MAX_BODY)) {
        failure = "the request carried one of the bottle's own secrets";
        fail(403, "the request body carries one of the bottle's own secrets; it was not sent");
        return;
      }
      send(body);
    });
    const send = (body: Buffer, retried = false): void => {
      const client = url.protocol === "https:" ? https : http;
      const upstream = client.request(url, {
        method,
        headers: upstreamHeaders(chosen, req.headers, token, url),
        ...(url.protocol === "https:" && this.options.upstreamCa !== undefined
          ? { ca: this.options.upstreamCa }
          : {}),
        agent: this.agents.agentFor(chosen.name, url),
      });
      upstream.setTimeout(this.options.timeoutMs ?? 120_000, () => {
        failure = "timeout";
        upstream.destroy();
        fail(504, `${url.host} did not answer in time`);
      });
      upstream.on("socket", (socket: net.Socket) => {
        socket.setNoDelay(true);
      });
      let answered = false;
      upstream.on("error", (error) => {
        if (failure !== undefined) return;
        if (!retried && shouldRetry(upstream, error, answered) && !res.headersSent) {
          send(body, true);
          return;
        }
        failure = errorCode(error);
        fail(502, `could not reach ${url.host} (${failure})`);
      });
      upstream.on("response", (upstreamRes) => {
        answered = true;
        upstream.setTimeout(this.options.idleMs ?? 300_000, () => {
          failure = "idle";
          upstream.destroy();
          res.destroy();
        });
        const forms = this.responseForms();
        const decoding = decoderFor(upstreamRes.headers["content-encoding"]);
        if (decoding === null) {
          failure = "the upstream's answer is in an encoding the proxy cannot read; refused";
          upstream.destroy();
          fail(502, `${url.host} answered in an encoding the proxy cannot check`);
          return;
        }
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value === undefined || HOP_HEADERS.has(name)) continue;
          // A compressed answer goes on decompressed (it is judged as such): its length changes.
          if (decoding.length > 0 && ["content-encoding", "content-length"].includes(name)) {
            continue;
          }
          const clean = (v: string): string => (forms.matcher.foundIn(v) ? REDACTED : v);
          headers[name] = Array.isArray(value) ? value.map(clean) : clean(value);
        }
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
        res.flushHeaders();
        const guard = new ResponseGuard(forms);
        const cut = (): void => {
          failure = "the upstream's answer carried one of the bottle's own secrets; cut off";
          upstream.destroy();
          res.destroy();
        };
        const body = decoding.reduce<NodeJS.ReadableStream>(
          (stream, next) => stream.pipe(next),
          upstreamRes,
        );
        body.on("data", (chunk: Buffer) => {
          const step = guard.push(chunk.toString("latin1"));
          if (step.cut) {
            cut();
            return;
          }
          bytesDown += step.release.length;
          if (!res.write(Buffer.from(step.release, "latin1"))) {
            body.pause();
            res.once("drain", () => body.resume());
          }
        });
        body.on("end", () => {
          const step = guard.end();
          if (step.cut) {
            cut();
            return;
          }
          bytesDown += step.release.length;
          res.end(Buffer.from(step.release, "latin1"));
        });
        for (const stream of [upstreamRes, ...decoding]) {
          stream.on("error", (error) => {
            failure ??= errorCode(error);
            upstream.destroy();
            res.destroy();
          });
        }
      });
      res.once("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    };
  }

  /** The forms of every own secret, to keep them out of answers (rebuilt when they change). */
  private responseForms(): SecretForms {
    const values = [...Object.values(this.tokens), ...this.otherSecrets];
    const key = values.join("\n");
    if (this.forms?.key !== key) this.forms = { key, forms: new SecretForms(values) };
    return this.forms.forms;
  }

  /** Every own secret: the route tokens (the agent never holds them) and the other ones. */
  private ownSecrets(): OwnSecretMatcher {
    const values = [...Object.values(this.tokens), ...this.otherSecrets];
    const key = values.join("\n");
    if (this.matcher?.key !== key) this.matcher = { key, matcher: new OwnSecretMatcher(values) };
    return this.matcher.matcher;
  }
}
