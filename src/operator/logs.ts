/**
 * Reading a bottle's audit logs (`audit/egress.jsonl`, `credentials.jsonl`, `git.jsonl`, written
 * by its sidecar): `bottle logs` and the dashboard's live traffic read them through this module.
 * Lines are handed on as the sidecar wrote them; the sidecar never writes a secret there.
 */
import fs from "node:fs";
import path from "node:path";
import type { BottlePaths } from "../core/state/bottle-state.js";

export const AUDIT_LOGS = ["egress", "credentials", "git"] as const;
export type AuditLogKind = (typeof AUDIT_LOGS)[number];

export function auditFile(paths: BottlePaths, kind: AuditLogKind): string {
  return path.join(paths.auditDir, `${kind}.jsonl`);
}

/** Largest chunk read at once, so a huge log is taken in steps, not in one allocation. */
const CHUNK = 4 * 1024 * 1024;

/**
 * Follows one log file from a byte offset: each `read()` returns the complete lines appended
 * since the last one (a partial last line waits for its newline). A file that shrank (replaced)
 * is read again from its start. A missing file is no lines.
 */
export class AuditTail {
  private offset = 0;
  private pending = "";

  constructor(readonly file: string) {}

  /** True once any byte was read. */
  get started(): boolean {
    return this.offset > 0;
  }

  read(): string[] {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return [];
    }
    if (size < this.offset) {
      this.offset = 0;
      this.pending = "";
    }
    const lines: string[] = [];
    if (size === this.offset) return lines;
    const fd = fs.openSync(this.file, "r");
    try {
      while (this.offset < size) {
        const chunk = Buffer.alloc(Math.min(CHUNK, size - this.offset));
        const got = fs.readSync(fd, chunk, 0, chunk.length, this.offset);
        if (got === 0) break;
        this.offset += got;
        const parts = (this.pending + chunk.subarray(0, got).toString("utf8")).split("\n");
        this.pending = parts.pop() ?? "";
        for (const line of parts) if (line.trim() !== "") lines.push(line);
      }
    } finally {
      fs.closeSync(fd);
    }
    return lines;
  }
}

/**
 * Lines in the order of their `time` (when the request arrived): an entry is written when its
 * request ends, so a long request's line comes after those of shorter ones that began later.
 * Lines without a readable time keep their place relative to the one before them.
 */
export function inTimeOrder(lines: readonly string[]): string[] {
  let last = "";
  const keyed = lines
    .filter((text) => text.trim() !== "")
    .map((text, index) => {
      let time = last;
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === "object" && parsed !== null && "time" in parsed) {
          const value = parsed.time;
          if (typeof value === "string") time = new Date(value).toISOString();
        }
      } catch {
        // An unreadable line keeps the previous line's time.
      }
      last = time;
      return { text, time, index };
    });
  keyed.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.index - b.index));
  return keyed.map((entry) => entry.text);
}
