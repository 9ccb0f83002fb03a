/**
 * One visible request (plain HTTP, or a request inside an intercepted tunnel), already allowed by
 * the policy: its content is checked, then it is forwarded to the pinned upstream and the answer
 * streamed back. Audited exactly once, when the response ends.
 *
 * - Content checks (unless DLP is off): the body is read first (up to `maxInspectedBodyBytes`;
 *   a larger body is refused with 413 when DLP blocks, and forwarded unread when it only warns),
 *   then URL, headers and body go to the inspector. A finding under `block` is a 403 naming its
 *   kind (`X-Bot-Bottle-Denied: dlp:<kind>`); under `warn` the request goes on and the finding is
 *   audited.
 * - Forwarding: hop-by-hop and `Proxy-*` headers are dropped; `Host` is the judged authority (a
 *   different Host would reach another site than the one judged). An upstream that cannot be
 *   reached gives 502, one that does not answer in time 504.
 */
import http from "node:http";
import { Readable } from "node:stream";
import type { AuditEntry } from "./egress-audit-entry.js";
import type { ContentFinding } from "../shared/content-inspector.js";
import { describeFinding, inspectedHeaders } from "../shared/content-inspector.js";
import { DENIED_HEADER, denialText, headerSafe } from "./denial.js";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";
import type { EgressDecision } from "./egress-policy.js";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import { displayHost } from "./egress-policy.js";
import { PinnedAgent } from "./upstream-connection.js";
import type { BufferHold } from "../shared/buffer-budget.js";
import { BUFFER_FULL } from "../shared/buffer-budget.js";

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

const EMPTY = Buffer.alloc(0);

/** Errors of a connection the upstream had closed. */
const RESET = new Set(["ECONNRESET", "EPIPE"]);

export function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ?? error.message;
  }
  return String(error);
}

export function filterHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set((headers.connection ?? "").split(",").map((t) => t.trim().toLowerCase()));
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    if (name.startsWith("proxy-")) continue;
    out[name] = value;
  }
  return out;
}

/** `host`, or `host:port` when the port is not the scheme's default. */
export function authority(target: Pick<UpstreamTarget, "host" | "port" | "secure">): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  const defaultPort = target.secure ? 443 : 80;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}

/** Answers a request with a denial (403 unless another status is given) and audits it. */
export function refuse(
  gate: EgressGate,
  res: http.ServerResponse,
  entry: AuditEntry,
  decision: EgressDecision,
  status = 403,
): void {
  const what = `${entry.method} ${displayHost(entry.host)}:${entry.port}${entry.path ?? ""}`;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    [DENIED_HEADER]: headerSafe(decision.rule ?? "deny"),
    connection: "close",
  });
  res.end(denialText(what, entry.host, decision, { supervise: gate.supervise, port: entry.port }));
  gate.audit({
    ...entry,
    verdict: "deny",
    rule: decision.rule,
    reason: decision.reason,
    status,
  });
}

export function findingDecision(finding: ContentFinding): EgressDecision {
  return {
    verdict: "deny",
    rule: `dlp:${finding.kind}`,
    reason: `the request carries what looks like a secret (${finding.kind}) in its ${finding.where}`,
  };
}

/** A `once` rule that allowed a request was spent by another one (or removed) before it went out. */
export const ONCE_SPENT: EgressDecision = {
  verdict: "deny",
  rule: "once-spent",
  reason:
    "the rule that allowed this (scope once) was used up by another request a moment before this one could go out",
};

interface ReadBody {
  body: Buffer;
  /** True when the body went past the limit; the rest is still unread in the request. */
  truncated: boolean;
  /** True when the sidecar's buffer budget could not hold the next chunk (nothing kept). */
  overBudget?: boolean;
}

function readBody(req: http.IncomingMessage, limit: number, hold: BufferHold): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      if (!hold.take(chunk.length)) {
        req.pause();
        cleanup();
        hold.release();
        resolve({ body: Buffer.alloc(0), truncated: true, overBudget: true });
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        req.pause();
        cleanup();
        resolve({ body: Buffer.concat(chunks), truncated: true });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ body: Buffer.concat(chunks), truncated: false });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error("the client closed the request"));
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
  });
}

/** The request body as a stream: what was read first (when any was), then the rest of it. */
function bodyStream(read: ReadBody | null, req: http.IncomingMessage): Readable {
  if (read === null) return req;
  async function* rest(): AsyncGenerator<Buffer> {
    yield read?.body ?? Buffer.alloc(0);
    for await (const chunk of req) yield chunk as Buffer;
  }
  return Readable.from(rest());
}

/**
 * Checks the request's content, then forwards it. `agent` keeps upstream connections of one
 * tunnel alive; without one, the request gets its own connection.
 */
export interface ForwardInput {
  target: UpstreamTarget;
  /** The request's path with its query, as sent upstream. */
  pathAndQuery: string;
  /** The audit entry so far (time, kind, method, host, port, path, verdict, rule). */
  entry: AuditEntry;
  agent: http.Agent | undefined;
  /** The allow rule that let this request through: spent here, once checked, if it is `once`. */
  rule: PlanEgressRule | undefined;
}

export async function forwardRequest(
  gate: EgressGate,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  input: ForwardInput,
): Promise<void> {
  const { target, pathAndQuery, entry, agent } = input;
  const started = Date.parse(entry.time);
  let read: ReadBody | null = null;
  let findings: ContentFinding[] = [];
  if (gate.inspector !== undefined && gate.dlp !== "off") {
    // The body is held, against the sidecar's shared budget, until the request is done.
    const hold = gate.budget.hold();
    res.once("close", () => {
      hold.release();
    });
    try {
      read = await readBody(req, gate.limits.maxInspectedBodyBytes, hold);
    } catch {
      hold.release();
      gate.audit({ ...entry, status: 499, error: "the client left before sending its body" });
      return;
    }
    if (read.overBudget === true) {
      req.resume();
      refuse(gate, res, entry, { verdict: "deny", rule: "busy", reason: BUFFER_FULL }, 503);
      return;
    }
    if (read.truncated && gate.dlp === "block") {
      req.resume();
      refuse(
        gate,
        res,
        entry,
        {
          verdict: "deny",
          rule: "dlp:body-too-large",
          reason: `the request body is larger than ${gate.limits.maxInspectedBodyBytes} bytes, more than the content checks read`,
        },
        413,
      );
      return;
    }
    findings = gate.inspector.inspectRequest({
      method: entry.method,
      host: target.host,
      path: pathAndQuery,
      headers: inspectedHeaders(req.headers, req.rawHeaders),
      body: read.body,
    });
    const [first] = findings;
    if (first !== undefined && gate.dlp === "block") {
      refuse(gate, res, entry, findingDecision(first));
      return;
    }
  }

  // Every check passed: only now does the request spend a `once` rule (a refused one leaves it).
  if (!gate.spend(input.rule)) {
    req.resume();
    refuse(gate, res, entry, ONCE_SPENT);
    return;
  }

  const headers = filterHeaders(req.headers);
  headers.host = authority(target);
  if (read !== null && !read.truncated) {
    delete headers["content-length"];
    if (read.body.length > 0 || req.headers["content-length"] !== undefined) {
      headers["content-length"] = String(read.body.length);
    }
  } else if (
    req.headers["transfer-encoding"] !== undefined &&
    req.headers["content-length"] === undefined
  ) {
    // The body was de-chunked by the parser; chunk it again so the upstream sees the same framing.
    headers["transfer-encoding"] = "chunked";
  }

  let bytesUp = 0;
  let bytesDown = 0;
  let failure: string | undefined;
  const finish = (): void => {
    gate.audit({
      ...entry,
      status: res.statusCode,
      bytes_up: bytesUp,
      bytes_down: bytesDown,
      duration_ms: Date.now() - started,
      ...(findings.length > 0 ? { finding: findings.map(describeFinding).join(",") } : {}),
      ...(failure === undefined ? {} : { error: failure }),
    });
  };
  const fail = (status: number, code: string, what: string): void => {
    failure = code;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(
      `bot-bottle egress proxy: ${what} ${displayHost(target.host)}:${target.port} (${code}).\n`,
    );
  };
  res.once("close", finish);

  // A body held whole, or none at all (a request without Content-Length or Transfer-Encoding).
  const noBody =
    req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined;
  const canResend = (read !== null && !read.truncated) || noBody;
  const send = (retried: boolean): void => {
    let upstream: http.ClientRequest;
    try {
      upstream = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: pathAndQuery,
        headers,
        agent: agent ?? new PinnedAgent(gate, target, false),
        timeout: gate.limits.upstreamTimeoutMs,
      });
    } catch (error) {
      req.resume();
      fail(502, errorCode(error), "could not reach");
      return;
    }

    upstream.on("timeout", () => {
      fail(504, "timeout", "no answer in time from");
      upstream.destroy();
    });
    let answered = false;
    upstream.on("error", (error) => {
      if (failure !== undefined) return;
      // A kept-alive connection the upstream closed while idle: it never read this request, so
      // a body held whole is sent once more, on a new connection.
      const code = errorCode(error);
      if (canResend && !retried && !answered && upstream.reusedSocket && RESET.has(code)) {
        send(true);
        return;
      }
      fail(502, code, "could not reach");
    });
    upstream.on("response", (upstreamRes) => {
      answered = true;
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
    bytesUp = 0;
    // A body held whole (or none) goes with the request's head in one write: one TLS record and
    // no stream per request. A body still arriving is streamed.
    if ((read !== null && !read.truncated) || (retried && read === null)) {
      const held = read?.body ?? EMPTY;
      bytesUp = held.length;
      if (held.length === 0) upstream.end();
      else upstream.end(held);
      return;
    }
    const body = bodyStream(read, req);
    body.on("data", (chunk: Buffer) => {
      bytesUp += chunk.length;
    });
    body.on("error", () => {
      upstream.destroy();
    });
    body.pipe(upstream);
  };
  send(false);
}
