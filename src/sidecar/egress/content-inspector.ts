/**
 * What the egress gate asks of its content checks (DLP). The detectors live in src/sidecar/dlp;
 * the proxy only depends on this shape. A finding names a kind and where it was found, never the
 * value.
 */
import type http from "node:http";

export interface ContentFinding {
  /** What was found, e.g. `anthropic-api-key`, `own-secret`, `hostname-exfiltration`. */
  kind: string;
  /** Where: `url`, `header:<name>`, `body`, `websocket`, `host`. */
  where: string;
}

export interface InspectedRequest {
  method: string;
  host: string;
  /** Path with its query string. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body?: Buffer;
}

export interface WebSocketInspector {
  /** Inspects one message (or fragment) the agent sends; keeps state across messages. */
  frame(opcode: "text" | "binary", payload: Buffer): ContentFinding[];
}

export interface ContentInspector {
  inspectHost(host: string): ContentFinding[];
  inspectRequest(request: InspectedRequest): ContentFinding[];
  newWebSocketScanner(): WebSocketInspector;
}

export type DlpMode = "block" | "warn" | "off";

/** `kind@where` for the audit log and the denial header. */
export function describeFinding(finding: ContentFinding): string {
  return `${finding.kind}@${finding.where}`;
}
