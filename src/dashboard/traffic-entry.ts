/**
 * One line of a bottle's audit logs as the dashboard shows it (PURE). Only named fields are
 * taken over, each checked for its type; the sidecar writes no secret into these logs, and
 * anything else a line might hold never reaches the page.
 */
import type { AuditLogKind } from "../operator/logs.js";

export type Verdict = "allow" | "deny" | "error";

export interface TrafficEntry {
  /** Position in the dashboard's feed (increasing): SSE event ids and paging use it. */
  seq: number;
  bottle: string;
  log: AuditLogKind;
  time: string;
  /** egress: http | connect | https | websocket; credentials: credential; git: fetch | push. */
  kind: string;
  method: string;
  /** egress: the host; credentials: the route; git: the repository entry. */
  host: string;
  port: number | null;
  /** egress and credentials: the path without query; git: the refs it moved. */
  path: string | null;
  verdict: Verdict;
  rule: string | null;
  reason: string | null;
  status: number | null;
  duration_ms: number | null;
  finding: string | null;
  error: string | null;
}

type Fields = Record<string, unknown>;

const text = (f: Fields, key: string): string | null => {
  const v = f[key];
  return typeof v === "string" ? v : null;
};
const num = (f: Fields, key: string): number | null => {
  const v = f[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
};

function verdictOf(value: string | null): Verdict {
  return value === "allow" || value === "deny" ? value : "error";
}

function gitRefs(f: Fields): string | null {
  const refs = f["refs"];
  if (!Array.isArray(refs)) return null;
  const names = refs
    .map((r: unknown) =>
      typeof r === "object" && r !== null && "ref" in r && typeof r.ref === "string" ? r.ref : "",
    )
    .filter((r) => r !== "");
  return names.length === 0 ? null : names.join(", ");
}

/** The entry for one audit line, or undefined for a line that is not a JSON object with a time. */
export function toTrafficEntry(
  line: string,
  bottle: string,
  log: AuditLogKind,
  seq: number,
): TrafficEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const f = parsed as Fields;
  const time = text(f, "time");
  if (time === null || Number.isNaN(Date.parse(time))) return undefined;
  const common = {
    seq,
    bottle,
    log,
    time,
    duration_ms: num(f, "duration_ms"),
    finding: text(f, "finding"),
    error: text(f, "error"),
  };
  switch (log) {
    case "egress":
      return {
        ...common,
        kind: text(f, "kind") ?? "http",
        method: text(f, "method") ?? "",
        host: text(f, "host") ?? "?",
        port: num(f, "port"),
        path: text(f, "path"),
        verdict: verdictOf(text(f, "verdict")),
        rule: text(f, "rule"),
        reason: text(f, "reason"),
        status: num(f, "status"),
      };
    case "credentials": {
      const route = text(f, "route");
      const failed = text(f, "error") !== null;
      return {
        ...common,
        kind: "credential",
        method: text(f, "method") ?? "",
        host: route ?? "(no route)",
        port: null,
        path: text(f, "path"),
        verdict: route === null ? "deny" : failed ? "error" : "allow",
        rule: null,
        reason: route === null ? "no credential route for this path" : null,
        status: num(f, "status"),
      };
    }
    case "git":
      return {
        ...common,
        kind: text(f, "op") ?? "git",
        method: text(f, "op") ?? "",
        host: text(f, "repo") ?? "?",
        port: null,
        path: gitRefs(f),
        verdict: verdictOf(text(f, "verdict")),
        rule: null,
        reason: text(f, "reason"),
        status: null,
      };
  }
}
