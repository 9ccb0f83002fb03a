/**
 * The gate's side of a push to an SSH upstream, as git's send-pack speaks it, PURE: where ssh
 * connects and what it runs there, the upstream's ref advertisement, the ref updates sent (each
 * with the old id the agent saw: receive-pack refuses it when the ref has moved, a lease on every
 * ref), and the report read back. See git's Documentation/gitprotocol-pack.txt.
 */
import { FLUSH, PktLineError, lineText, pktLine, readUntilFlush } from "./pkt-line.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { RefReport } from "./receive-pack.js";

export interface SshDestination {
  /** `[user@]host`, as ssh takes it. */
  host: string;
  port: string | null;
  /** The repository's path, as git sends it to the remote git-receive-pack. */
  path: string;
}

/**
 * Where an SSH upstream is (`ssh://[user@]host[:port]/path` or scp-like `[user@]host:path`), as
 * git reads it; null for any other URL. A path starting `/~` means a home folder, as in git.
 */
export function sshDestination(url: string): SshDestination | null {
  const ssh = /^(?:git\+)?ssh:\/\/([^/?#]+)(\/[^?#]*)$/.exec(url);
  if (ssh !== null) {
    const authority = ssh[1] ?? "";
    const at = authority.lastIndexOf("@");
    const user = at === -1 ? "" : authority.slice(0, at + 1);
    const hostPort = authority.slice(at + 1);
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
    const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(hostPort);
    const parts = bracketed ?? plain;
    if (parts === null) return null;
    const path = decodeURIComponent(ssh[2] ?? "/");
    return {
      host: `${user}${parts[1] ?? ""}`,
      port: parts[2] ?? null,
      path: path.startsWith("/~") ? path.slice(1) : path,
    };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return null;
  const scp = /^([^/:]+):(.+)$/.exec(url);
  if (scp === null) return null;
  return { host: scp[1] ?? "", port: null, path: scp[2] ?? "" };
}

/** The command ssh runs on the upstream host, quoted as git quotes it. */
export function receivePackCommand(path: string): string {
  return `git-receive-pack '${path.replaceAll("'", `'\\''`)}'`;
}

export interface UpstreamAdvertisement {
  refs: Map<string, string>;
  capabilities: Set<string>;
  /** Where the advertisement ends in the data read so far. */
  end: number;
}

/** The upstream's ref advertisement, from the bytes read so far; null when more are needed. */
export function parseUpstreamAdvertisement(data: Buffer): UpstreamAdvertisement | null {
  const read = readUntilFlush(data);
  if (read === null) return null;
  const refs = new Map<string, string>();
  const capabilities = new Set<string>();
  for (const [index, payload] of read.lines.entries()) {
    let text = lineText(payload);
    if (index === 0) {
      const nul = text.indexOf("\0");
      if (nul !== -1) {
        for (const cap of text.slice(nul + 1).split(" ")) if (cap !== "") capabilities.add(cap);
        text = text.slice(0, nul);
      }
    }
    const [oid, name] = text.split(" ");
    if (oid === undefined || name === undefined) {
      throw new PktLineError("malformed ref advertisement from the upstream");
    }
    if (name !== "capabilities^{}") refs.set(name, oid);
  }
  return { refs, capabilities, end: read.end };
}

/** Capabilities the gate asks for, of those the upstream offers. */
const WANTED = ["report-status", "side-band-64k", "quiet", "delete-refs", "ofs-delta"];

/**
 * Why this upstream cannot take the push as the gate sends it (then git push does), or null: it
 * must report per ref, take deletions when there are any, and take the pack the gate makes
 * (ofs-delta, sha1).
 */
export function unsupportedBy(
  advertisement: UpstreamAdvertisement,
  updates: readonly RefUpdate[],
): string | null {
  const caps = advertisement.capabilities;
  if (!caps.has("report-status")) return "no report-status";
  if (!caps.has("ofs-delta")) return "no ofs-delta";
  const format = [...caps].find((cap) => cap.startsWith("object-format="));
  if (format !== undefined && format !== "object-format=sha1") return format;
  if (updates.some((u) => u.new === ZERO_ID) && !caps.has("delete-refs")) return "no delete-refs";
  return null;
}

/**
 * The updates whose ref the upstream no longer has where the agent saw it (its old id), with why,
 * PURE. Sent, the upstream would refuse them only after taking their objects.
 */
export function staleRefs(
  advertisement: UpstreamAdvertisement,
  updates: readonly RefUpdate[],
): Map<string, string> {
  const stale = new Map<string, string>();
  for (const update of updates) {
    const upstream = advertisement.refs.get(update.ref) ?? ZERO_ID;
    if (upstream === update.old) continue;
    stale.set(
      update.ref,
      upstream === ZERO_ID
        ? `${update.ref} is no longer upstream (someone deleted it): fetch and push again`
        : `the upstream's ${update.ref} moved since the push was based on it: fetch, rebase or merge, and push again`,
    );
  }
  return stale;
}

/** The ref updates, the first carrying the capabilities, then a flush. */
export function pushCommands(
  updates: readonly RefUpdate[],
  advertisement: UpstreamAdvertisement,
): Buffer {
  const caps = [
    ...WANTED.filter((cap) => advertisement.capabilities.has(cap)),
    "agent=bot-bottle-git-gate",
  ].join(" ");
  const lines = updates.map((update, index) =>
    pktLine(`${update.old} ${update.new} ${update.ref}${index === 0 ? `\0${caps}` : ""}\n`),
  );
  return Buffer.concat([...lines, FLUSH]);
}

export interface UpstreamReport {
  /** `ok`, or why the upstream could not unpack. */
  unpack: string;
  refs: RefReport[];
  /** What the upstream printed (its hooks' output), line by line. */
  messages: string[];
  /** An error the upstream sent on side band 3, or null. */
  fatal: string | null;
}

/**
 * Reads the upstream's answer (all of it, the upstream closed after it): with side-band-64k,
 * band 1 carries the report, band 2 messages, band 3 a fatal error; without, the report alone.
 */
export function readUpstreamReport(data: Buffer, sideBand: boolean): UpstreamReport {
  const messages: string[] = [];
  let fatal: string | null = null;
  let status = data;
  if (sideBand) {
    const primary: Buffer[] = [];
    const progress: Buffer[] = [];
    const read = readUntilFlush(data);
    if (read === null) throw new PktLineError("the upstream's answer ended early");
    for (const payload of read.lines) {
      const band = payload[0];
      const body = payload.subarray(1);
      if (band === 1) primary.push(body);
      else if (band === 2) progress.push(body);
      else if (band === 3) fatal = lineText(body);
    }
    messages.push(
      ...Buffer.concat(progress)
        .toString("utf8")
        .split(/\r?\n|\r/)
        .filter((line) => line.trim() !== ""),
    );
    status = Buffer.concat(primary);
  }
  const report = readUntilFlush(status);
  if (report === null) {
    return { unpack: fatal ?? "no report from the upstream", refs: [], messages, fatal };
  }
  let unpack = "no report from the upstream";
  const refs: RefReport[] = [];
  for (const payload of report.lines) {
    const text = lineText(payload);
    if (text.startsWith("unpack ")) unpack = text.slice("unpack ".length);
    else if (text.startsWith("ok ")) refs.push({ ref: text.slice(3), error: null });
    else if (text.startsWith("ng ")) {
      const rest = text.slice(3);
      const space = rest.indexOf(" ");
      refs.push({
        ref: space === -1 ? rest : rest.slice(0, space),
        error: space === -1 ? "refused" : rest.slice(space + 1),
      });
    }
  }
  return { unpack, refs, messages, fatal };
}
