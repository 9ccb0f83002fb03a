/**
 * `bottle logs <identity> [--egress|--git] [--follow]`: the bottle's audit logs, readable: every
 * egress request with its verdict, or every fetch and push through the git gate.
 */
import { AuditTail, auditFile, inTimeOrder } from "../../operator/logs.js";
import { bottleRef } from "../../operator/bottle-ref.js";
import type { CommandContext } from "../context.js";

interface AuditLine {
  time?: string;
  kind?: string;
  method?: string;
  host?: string;
  port?: number;
  path?: string | null;
  verdict?: string;
  rule?: string | null;
  reason?: string;
  status?: number;
  bytes_up?: number;
  bytes_down?: number;
  duration_ms?: number;
  finding?: string;
  error?: string;
}

export function renderAuditLine(text: string): string {
  let line: AuditLine;
  try {
    line = JSON.parse(text) as AuditLine;
  } catch {
    return text;
  }
  const time = line.time?.slice(11, 19) ?? "--:--:--";
  const verdict = (line.verdict ?? "?").toUpperCase().padEnd(5);
  const scheme = line.kind === "https" ? "https://" : line.kind === "websocket" ? "ws://" : "";
  const target = `${scheme}${line.host ?? "?"}:${line.port ?? "?"}${line.path ?? ""}`;
  const parts = [time, verdict, (line.method ?? line.kind ?? "").padEnd(7), target];
  if (line.status !== undefined) parts.push(String(line.status));
  if (line.duration_ms !== undefined) parts.push(`${Math.round(line.duration_ms)}ms`);
  if (line.bytes_up !== undefined || line.bytes_down !== undefined)
    parts.push(`up ${line.bytes_up ?? 0} down ${line.bytes_down ?? 0}`);
  if (line.rule !== undefined && line.rule !== null) parts.push(`[${line.rule}]`);
  if (line.verdict !== "allow" && line.reason !== undefined) parts.push(`(${line.reason})`);
  if (line.finding !== undefined) parts.push(`finding ${line.finding}`);
  if (line.error !== undefined) parts.push(`error ${line.error}`);
  return parts.join("  ");
}

interface GitAuditLine {
  time?: string;
  op?: string;
  repo?: string;
  verdict?: string;
  reason?: string;
  refs?: { ref?: string; old?: string; new?: string; error?: string }[];
  bytes?: number;
  finding?: string;
  duration_ms?: number;
}

function shortId(oid: string | undefined): string {
  return oid === undefined ? "?" : /^0+$/.test(oid) ? "(none)" : oid.slice(0, 7);
}

export function renderGitAuditLine(text: string): string {
  let line: GitAuditLine;
  try {
    line = JSON.parse(text) as GitAuditLine;
  } catch {
    return text;
  }
  const time = line.time?.slice(11, 19) ?? "--:--:--";
  const verdict = (line.verdict ?? "?").toUpperCase().padEnd(5);
  const refs = (line.refs ?? [])
    .map(
      (r) => `${(r.ref ?? "?").replace(/^refs\/heads\//, "")} ${shortId(r.old)}..${shortId(r.new)}`,
    )
    .join(", ");
  const parts = [time, verdict, (line.op ?? "").padEnd(5), line.repo ?? "?"];
  if (refs !== "") parts.push(refs);
  if (line.bytes !== undefined) parts.push(`${line.bytes} bytes`);
  if (line.duration_ms !== undefined) parts.push(`${Math.round(line.duration_ms)}ms`);
  if (line.reason !== undefined) parts.push(`(${line.reason})`);
  if (line.finding !== undefined) parts.push(`finding ${line.finding}`);
  return parts.join("  ");
}

export async function logsCommand(
  identity: string,
  options: { egress: boolean; git: boolean; follow: boolean; json: boolean },
  ctx: CommandContext,
): Promise<void> {
  const { paths } = bottleRef(ctx.host, identity);
  const tail = new AuditTail(auditFile(paths, options.git ? "git" : "egress"));
  const readable = options.git ? renderGitAuditLine : renderAuditLine;
  const render = (text: string): string => (options.json ? text : readable(text));
  const flush = (): void => {
    for (const text of inTimeOrder(tail.read())) ctx.io.out(render(text));
  };
  flush();
  if (!options.follow) {
    if (!tail.started) ctx.io.err(`No ${options.git ? "git" : "egress"} activity recorded yet.`);
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(flush, 250);
    const end = (): void => {
      clearInterval(timer);
      resolve();
    };
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
  });
}
