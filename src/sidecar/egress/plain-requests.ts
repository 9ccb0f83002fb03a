/**
 * Plain (absolute-form) requests and WebSocket upgrades outside a tunnel: judged on host, port,
 * method and path, then the host on its content, then its address (resolved once, checked, and
 * pinned); refused with a denial naming the rule, or forwarded (forward-request.ts) or bridged
 * (websocket-bridge.ts) to the checked address.
 */
import type http from "node:http";
import type net from "node:net";
import type { AuditEntry } from "./egress-audit-entry.js";
import { pathWithoutQuery } from "../shared/audit-log.js";
import { DENIED_HEADER, denialText, endWith, rawResponse, statusLine } from "./denial.js";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";
import type { EgressDecision } from "./egress-policy.js";
import { displayHost, normalizeRequestHost } from "./egress-policy.js";
import { findingDecision, forwardRequest, refuse } from "./forward-request.js";
import { methodOverrides } from "./path-rules.js";
import type { PickedAddress } from "./upstream-address.js";
import { resolveUpstream } from "./upstream-address.js";
import { bridgeWebSocket } from "./websocket-bridge.js";

function ignore(): void {
  // Socket errors end in 'close'; an unhandled 'error' would crash.
}

/** 502 for a name that does not resolve, 403 for an answer the policy refuses. */
export function refusalStatus(picked: Extract<PickedAddress, { ok: false }>): number {
  return picked.rule === "unresolvable" ? 502 : 403;
}

/** The host check on content (names that carry data); null when clean or DLP is off. */
export function hostFinding(gate: EgressGate, host: string): EgressDecision | null {
  const { inspector, dlp } = gate;
  if (inspector === undefined || dlp === "off") return null;
  const [finding] = inspector.inspectHost(host);
  if (finding === undefined || dlp !== "block") return null;
  return findingDecision(finding);
}

/**
 * Judges a plain (absolute-form) request up to its pinned address. Answers the refusal itself
 * and returns null, or returns what forwarding needs.
 */
async function judgePlain(
  gate: EgressGate,
  req: http.IncomingMessage,
  kind: AuditEntry["kind"],
  answer: (entry: AuditEntry, decision: EgressDecision, status?: number) => void,
): Promise<{
  target: UpstreamTarget;
  entry: AuditEntry;
  pathAndQuery: string;
  rule: UpstreamTarget["rule"];
} | null> {
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
  const decision = gate.decide({
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
  const finding = hostFinding(gate, host);
  if (finding !== null) {
    answer(entry, finding);
    return null;
  }
  const picked = await resolveUpstream(host, decision.match, gate.resolve, gate.ranges);
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
    rule: decision.match,
  };
}

export async function onPlainRequest(
  gate: EgressGate,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  res.on("error", ignore);
  const judged = await judgePlain(gate, req, "http", (entry, decision, status) => {
    req.resume();
    if (status === 400) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(`bot-bottle egress proxy: ${decision.reason}.\n`);
      gate.audit({ ...entry, status: 400 });
      return;
    }
    refuse(gate, res, entry, decision, status);
  });
  if (judged === null) return;
  await forwardRequest(gate, req, res, { ...judged, agent: undefined });
}

export async function onPlainUpgrade(
  gate: EgressGate,
  req: http.IncomingMessage,
  socket: net.Socket,
  head: Buffer,
): Promise<void> {
  socket.on("error", ignore);
  const judged = await judgePlain(gate, req, "websocket", (entry, decision, status = 403) => {
    const statusText = statusLine(status);
    endWith(
      socket,
      rawResponse(
        statusText,
        { [DENIED_HEADER]: decision.rule ?? "deny" },
        denialText(`a WebSocket to ${displayHost(entry.host)}`, entry.host, decision, {
          supervise: gate.supervise,
          port: entry.port,
        }),
      ),
    );
    gate.audit({
      ...entry,
      verdict: "deny",
      rule: decision.rule,
      reason: decision.reason,
      status,
    });
  });
  if (judged === null) return;
  bridgeWebSocket(gate, req, socket, head, judged);
}
