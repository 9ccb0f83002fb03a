/**
 * The egress audit log: one JSON object per line, appended to a file in the bottle's state folder
 * (the parent folder is created). Every request the egress proxy receives is written once, with its
 * verdict. The path is written without its query string, and no header or body is ever written;
 * the proxy redacts any field the content checks flag before it gets here (audit-redaction.ts).
 *
 * Writing never throws and never crashes the sidecar: a failing file is reported once on stderr
 * and later entries are dropped. Entries written after close() are dropped.
 */
import fs from "node:fs";
import path from "node:path";

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

/** Removes the query string and fragment of a request path. */
export function pathWithoutQuery(requestPath: string): string {
  const cut = requestPath.search(/[?#]/);
  return cut === -1 ? requestPath : requestPath.slice(0, cut);
}

export class AuditLog<Entry extends object = AuditEntry> {
  private readonly stream: fs.WriteStream;
  private failed = false;
  private closed = false;

  constructor(private readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.stream = fs.createWriteStream(file, { flags: "a" });
    this.stream.on("error", (error) => {
      if (this.failed) return;
      this.failed = true;
      process.stderr.write(`bot-bottle: cannot write audit log ${this.file}: ${error.message}\n`);
    });
  }

  /** Appends one entry as a JSON line (a `path` stripped of any query string). */
  write(entry: Entry): void {
    if (this.closed || this.failed) return;
    const line =
      "path" in entry && typeof entry.path === "string"
        ? { ...entry, path: pathWithoutQuery(entry.path) }
        : entry;
    this.stream.write(`${JSON.stringify(line)}\n`);
  }

  /** Flushes and closes the file; resolves even if the file failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.stream.destroyed) return;
    await new Promise<void>((resolve) => {
      this.stream.once("close", resolve);
      this.stream.end();
    });
  }
}
