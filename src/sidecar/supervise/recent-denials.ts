/**
 * The bottle's last egress denials, read from its egress audit log (audit/egress.jsonl) for the
 * `recent_denials` tool: time, host, port, method, path (never its query), rule, reason, and what
 * to do next. Only the log's tail is read; a line that does not parse is skipped.
 */
import fs from "node:fs";
import { pathWithoutQuery } from "../shared/audit-log.js";
import { askAdvice } from "../shared/denial-advice.js";

/** How much of the log's end is read: enough for far more denials than the tool returns. */
const TAIL_BYTES = 512 * 1024;

export interface Denial {
  time: string;
  host: string;
  port: number;
  method: string;
  path: string | null;
  rule: string | null;
  reason: string;
  /** What the agent can do: names request_egress (supervise is on wherever this tool exists). */
  advice: string;
}

function field(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** One audit line as a denial, or null when it is not one (or not an audit line at all). */
export function denialOf(line: string): Denial | null {
  let value: unknown;
  try {
    value = JSON.parse(line) as unknown;
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const entry = value as Record<string, unknown>;
  const host = field(entry.host);
  const time = field(entry.time);
  if (entry.verdict !== "deny" || host === null || time === null) return null;
  const port = typeof entry.port === "number" ? entry.port : 0;
  const rule = field(entry.rule);
  const path = field(entry.path);
  const finding = rule?.startsWith("dlp:") === true;
  return {
    time,
    host,
    port,
    method: field(entry.method) ?? "",
    path: path === null ? null : pathWithoutQuery(path),
    rule,
    reason: field(entry.reason) ?? "",
    advice: finding
      ? "The request carried what looks like a secret: remove it (the gates inject credentials)."
      : askAdvice({ host, port, internal: rule === "internal-address", supervise: true }),
  };
}

/** The last `limit` denials in `lines`, newest first. */
export function lastDenials(lines: readonly string[], limit: number): Denial[] {
  const found: Denial[] = [];
  for (let i = lines.length - 1; i >= 0 && found.length < limit; i -= 1) {
    const denial = denialOf(lines[i] ?? "");
    if (denial !== null) found.push(denial);
  }
  return found;
}

/** The tail of the audit file as lines (the first, possibly cut, line dropped); [] if none. */
export function readLogTail(file: string): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    return size > length ? lines.slice(1) : lines;
  } finally {
    fs.closeSync(fd);
  }
}
