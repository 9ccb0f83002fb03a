/**
 * A WebSocket upgrade the policy allowed (plain, or inside an intercepted tunnel), bridged to the
 * pinned upstream with every message the agent sends checked.
 *
 * - The upgrade request itself (URL, headers) goes through the content checks first.
 * - `Sec-WebSocket-Extensions` is removed, so no compression is negotiated and every frame stays
 *   readable. Every frame the agent sends is checked against RFC 6455 (websocket-frames.ts); a
 *   reserved bit or opcode, an unmasked frame, a control frame over 125 bytes or fragmented
 *   closes the bridge with 1002, a frame or message past its limit with 1009.
 * - Whole messages are judged (websocket-messages.ts): the fragments of one are held, given to
 *   the inspector together (which keeps state across messages, for secrets split across them),
 *   and forwarded byte for byte once it passed. Control frames (ping, pong, close reason) are
 *   judged too. A finding under `block` sends the agent a close frame (1008, policy violation)
 *   and ends both sides. The upstream's frames are passed through untouched.
 * - A non-101 answer from the upstream is passed back as is. One audit line when the bridge ends.
 */
import type http from "node:http";
import type net from "node:net";
import type { AuditEntry } from "./egress-audit-entry.js";
import type { ContentFinding } from "../shared/content-inspector.js";
import { describeFinding, inspectedHeaders } from "../shared/content-inspector.js";
import { DENIED_HEADER, denialText, endWith, headerSafe, rawResponse } from "./denial.js";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";
import {
  ONCE_SPENT,
  authority,
  errorCode,
  filterHeaders,
  findingDecision,
} from "./forward-request.js";
import { connectUpstream } from "./upstream-connection.js";
import { WebSocketFrameReader, closeFrame } from "./websocket-frames.js";
import type { WsJudged } from "./websocket-messages.js";
import { WebSocketMessages } from "./websocket-messages.js";
import { BUFFER_FULL } from "../shared/buffer-budget.js";

export interface BridgeInput {
  target: UpstreamTarget;
  pathAndQuery: string;
  entry: AuditEntry;
  /** The allow rule that let the upgrade through: spent, once checked, if it is `once`. */
  rule: UpstreamTarget["rule"];
}

function requestHead(req: http.IncomingMessage, target: UpstreamTarget, path: string): string {
  const headers = filterHeaders(req.headers);
  delete headers["sec-websocket-extensions"];
  headers.host = authority(target);
  const lines = [`${req.method ?? "GET"} ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [String(value)]) lines.push(`${name}: ${one}`);
  }
  lines.push("Connection: Upgrade", `Upgrade: ${req.headers.upgrade ?? "websocket"}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

export function bridgeWebSocket(
  gate: EgressGate,
  req: http.IncomingMessage,
  client: net.Socket,
  head: Buffer,
  input: BridgeInput,
): void {
  const { target, entry } = input;
  const started = Date.parse(entry.time);
  const refuseWith = (finding: ContentFinding | null): void => {
    const decision = finding === null ? ONCE_SPENT : findingDecision(finding);
    const body = denialText(`a WebSocket to ${entry.host}`, entry.host, decision);
    endWith(
      client,
      rawResponse("403 Forbidden", { [DENIED_HEADER]: headerSafe(decision.rule ?? "deny") }, body),
    );
    gate.audit({
      ...entry,
      verdict: "deny",
      rule: decision.rule,
      reason: decision.reason,
      status: 403,
      ...(finding === null ? {} : { finding: describeFinding(finding) }),
    });
  };

  const checks = gate.inspector !== undefined && gate.dlp !== "off" ? gate.inspector : undefined;
  const findings: ContentFinding[] = [];
  if (checks !== undefined) {
    const found = checks.inspectRequest({
      method: req.method ?? "GET",
      host: target.host,
      path: input.pathAndQuery,
      headers: inspectedHeaders(req.headers, req.rawHeaders),
    });
    const [first] = found;
    if (first !== undefined && gate.dlp === "block") {
      refuseWith(first);
      return;
    }
    findings.push(...found);
  }
  // The upgrade passed its checks: only now does it spend a `once` rule.
  if (!gate.spend(input.rule)) {
    refuseWith(null);
    return;
  }

  const upstream = connectUpstream(gate, target);
  upstream.setNoDelay(true);
  client.setNoDelay(true);
  const scanner = checks?.newWebSocketScanner();
  const reader = new WebSocketFrameReader(gate.limits.maxWebSocketFrameBytes);
  const messages = new WebSocketMessages(gate.limits.maxWebSocketMessageBytes);
  let status = 0;
  let failure: string | undefined;
  let blocked: ContentFinding | undefined;
  let headerBuffer = Buffer.alloc(0);
  let upgraded = false;

  const finish = (): void => {
    const all = blocked === undefined ? findings : [...findings, blocked];
    gate.audit({
      ...entry,
      ...(blocked === undefined
        ? {}
        : {
            verdict: "deny",
            rule: `dlp:${blocked.kind}`,
            reason: findingDecision(blocked).reason,
          }),
      status,
      bytes_up: upstream.bytesWritten,
      bytes_down: upstream.bytesRead,
      duration_ms: Date.now() - started,
      ...(all.length > 0 ? { finding: all.map(describeFinding).join(",") } : {}),
      ...(failure === undefined ? {} : { error: failure }),
    });
  };
  upstream.once("close", finish);
  upstream.once("error", (error) => {
    failure ??= errorCode(error);
    if (!upgraded && client.writable) {
      endWith(
        client,
        rawResponse(
          "502 Bad Gateway",
          {},
          `bot-bottle egress proxy: could not reach ${entry.host} (${failure}).\n`,
        ),
      );
      status = 502;
    } else client.destroy();
  });
  client.once("close", () => upstream.destroy());

  const violate = (code: number, error: string): void => {
    failure = error;
    client.end(closeFrame(code, error));
    upstream.destroy();
  };
  const judge = (judged: WsJudged): boolean => {
    const found = scanner?.frame(judged.opcode, judged.payload) ?? [];
    const [first] = found;
    if (first === undefined) return true;
    if (gate.dlp === "block") {
      blocked = first;
      client.end(closeFrame(1008, `bot-bottle blocked a message: ${first.kind}`));
      upstream.destroy();
      return false;
    }
    findings.push(...found);
    return true;
  };
  // What is held of unfinished frames and messages counts against the sidecar's budget.
  const hold = gate.budget.hold();
  client.once("close", () => {
    hold.release();
  });
  // Every frame is read and checked against the protocol; data is judged per whole message.
  const fromAgent = (chunk: Buffer): void => {
    const result = reader.push(chunk);
    if (!result.ok) {
      violate(result.code, result.error);
      return;
    }
    if (!hold.resize(reader.pendingBytes() + messages.heldBytes() + chunk.length)) {
      // 1013: try again later.
      violate(1013, BUFFER_FULL);
      return;
    }
    for (const frame of result.frames) {
      const step = messages.accept(frame);
      if (step.kind === "hold") continue;
      if (step.kind === "violation") {
        violate(step.code, step.error);
        return;
      }
      if (!judge(step.judged)) return;
      for (const raw of step.judged.raw) upstream.write(raw);
    }
    hold.resize(reader.pendingBytes() + messages.heldBytes());
  };

  let headDone = false;
  upstream.on("end", () => client.end());
  upstream.on("data", (chunk: Buffer) => {
    if (headDone) {
      client.write(chunk);
      return;
    }
    headerBuffer = Buffer.concat([headerBuffer, chunk]);
    const end = headerBuffer.indexOf("\r\n\r\n");
    if (end === -1) {
      if (headerBuffer.length > gate.limits.maxHeaderBytes)
        upstream.destroy(new Error("upstream head too large"));
      return;
    }
    const statusLine = headerBuffer.subarray(0, headerBuffer.indexOf("\r\n")).toString("latin1");
    status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 502);
    headDone = true;
    client.write(headerBuffer);
    // Not upgraded (status other than 101): the rest is the upstream's answer, passed on as is.
    if (status !== 101) return;
    upgraded = true;
    if (head.length > 0) fromAgent(head);
    client.on("data", fromAgent);
  });
  upstream.write(requestHead(req, target, input.pathAndQuery));
}
