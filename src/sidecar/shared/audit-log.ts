/**
 * A gate's audit log: one JSON object per line, appended to a file in the bottle's state folder
 * (the parent folder is created). Every gate writes one (audit/egress.jsonl, credentials.jsonl,
 * git.jsonl, supervise.jsonl), each entry once, with its verdict. A `path` is written without its
 * query string; no header or body is ever written (the egress proxy redacts any field the content
 * checks flag before it gets here: egress/audit-redaction.ts).
 *
 * Writing never throws and never crashes the sidecar: a failing file is reported once on stderr
 * and later entries are dropped. Entries written after close() are dropped.
 */
import fs from "node:fs";
import path from "node:path";

/** Removes the query string and fragment of a request path. */
export function pathWithoutQuery(requestPath: string): string {
  const cut = requestPath.search(/[?#]/);
  return cut === -1 ? requestPath : requestPath.slice(0, cut);
}

export class AuditLog<Entry extends object> {
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
