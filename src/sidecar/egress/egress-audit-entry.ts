/** One line of the egress audit log (audit/egress.jsonl): one request or tunnel and its verdict. */
export interface AuditEntry {
  /** ISO 8601 time the request arrived. */
  time: string;
  /**
   * `http` for a plain (absolute-form) request, `connect` for a tunnel, `https` for a request
   * inside an intercepted tunnel, `websocket` for a bridged WebSocket.
   */
  kind: "http" | "connect" | "https" | "websocket";
  method: string;
  host: string;
  port: number;
  /** The request path without query string or fragment; null for a tunnel. */
  path: string | null;
  verdict: "allow" | "deny";
  rule: string | null;
  reason: string;
  /** The status the client got (200 for an established tunnel). */
  status?: number;
  /** Bytes from the agent to the upstream (request body, or tunnel bytes). */
  bytes_up?: number;
  /** Bytes from the upstream to the agent (response body, or tunnel bytes). */
  bytes_down?: number;
  duration_ms?: number;
  /** The address dialled (resolved once and checked). */
  address?: string;
  /** Content findings (`kind@where`, never a value): the reason of a dlp deny, or warnings. */
  finding?: string;
  /** What failed after an allow: upstream unreachable, connection reset. */
  error?: string;
}
