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

/** Synthetic entries added to the headers the inspector sees (never forwarded). */
export const RAW_HEADER_LINES = "x-bot-bottle-inspected-header-lines";
export const RAW_HEADER_NAMES = "x-bot-bottle-inspected-header-names";

/**
 * The headers as the content checks see them: the parsed ones (values), plus every header line
 * as it came (`name: value`, duplicates Node merges or drops, folded lines kept) and every header
 * name on its own, joined, so a secret carried in names (raw, hex, split across several) is found.
 */
export function inspectedHeaders(
  headers: http.IncomingHttpHeaders,
  rawHeaders: readonly string[],
): http.IncomingHttpHeaders {
  const lines: string[] = [];
  const names: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    lines.push(`${name}: ${rawHeaders[i + 1] ?? ""}`);
    names.push(name);
  }
  return { ...headers, [RAW_HEADER_LINES]: lines.join("\n"), [RAW_HEADER_NAMES]: names.join("") };
}
