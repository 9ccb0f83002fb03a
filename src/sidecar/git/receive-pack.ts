/**
 * The receive-pack exchange of git's smart HTTP protocol, PURE: the gate's advertisement of the
 * mirror's refs, the push request it reads back (ref updates, capabilities, push
 * options, then the pack), and the report it answers with.
 *
 * The gate advertises only what it implements: report-status (v1), side-band-64k, delete-refs,
 * quiet, ofs-delta. A client never asks for more than was advertised.
 */
import { FLUSH, PktLineError, lineText, pktLine, readUntilFlush, sideBand } from "./pkt-line.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";

/** A ref update as the agent asks for it, before the gate knows whether it fast-forwards. */
export type RefUpdateCommand = Omit<RefUpdate, "fastForward">;

const CAPABILITIES = [
  "report-status",
  "delete-refs",
  "side-band-64k",
  "quiet",
  "ofs-delta",
  "object-format=sha1",
  "agent=bot-bottle-git-gate",
];

/** The line before a smart-HTTP advertisement (protocol v0 and v1 only). */
export function serviceAnnouncement(service: string): Buffer {
  return Buffer.concat([pktLine(`# service=${service}\n`), FLUSH]);
}

/** The body of `GET info/refs?service=git-receive-pack` for these refs (oid, full name). */
export function receivePackAdvertisement(refs: readonly { oid: string; name: string }[]): Buffer {
  const caps = CAPABILITIES.join(" ");
  const lines = [serviceAnnouncement("git-receive-pack")];
  if (refs.length === 0) lines.push(pktLine(`${ZERO_ID} capabilities^{}\0${caps}\n`));
  refs.forEach((ref, index) => {
    lines.push(pktLine(`${ref.oid} ${ref.name}${index === 0 ? `\0${caps}` : ""}\n`));
  });
  lines.push(FLUSH);
  return Buffer.concat(lines);
}

export interface PushRequestHead {
  commands: RefUpdateCommand[];
  capabilities: Set<string>;
  /** Where the pack starts in the data read so far. */
  packOffset: number;
}

const OID = /^[0-9a-f]{40}$/;

/**
 * Parses the head of a push request from the bytes read so far; null when more are needed.
 * Throws PktLineError on a malformed head. An empty command list (git's probe request, `0000`)
 * is a valid head with no pack.
 */
export function parsePushHead(data: Buffer): PushRequestHead | null {
  const first = readUntilFlush(data);
  if (first === null) return null;
  const commands: RefUpdateCommand[] = [];
  const capabilities = new Set<string>();
  for (const [index, payload] of first.lines.entries()) {
    let text = lineText(payload);
    if (text.startsWith("shallow ")) continue;
    if (text.startsWith("push-cert")) throw new PktLineError("signed pushes are not supported");
    if (index === 0 || capabilities.size === 0) {
      const nul = text.indexOf("\0");
      if (nul !== -1) {
        for (const cap of text.slice(nul + 1).split(" ")) if (cap !== "") capabilities.add(cap);
        text = text.slice(0, nul);
      }
    }
    const [old, next, ref, ...rest] = text.split(" ");
    if (
      old === undefined ||
      next === undefined ||
      ref === undefined ||
      rest.length > 0 ||
      !OID.test(old) ||
      !OID.test(next) ||
      !ref.startsWith("refs/")
    ) {
      throw new PktLineError("malformed ref update in push request");
    }
    commands.push({ ref, old, new: next });
  }
  let packOffset = first.end;
  if (capabilities.has("push-options") && commands.length > 0) {
    const options = readUntilFlush(data, packOffset);
    if (options === null) return null;
    packOffset = options.end;
  }
  return { commands, capabilities, packOffset };
}

export interface RefReport {
  ref: string;
  /** null: accepted; else why it was refused. */
  error: string | null;
}

/**
 * The body of the push's answer: messages on the progress band (shown as `remote: ...`), then
 * the report-status (`unpack ok|<error>`, `ok <ref>` / `ng <ref> <reason>`), on the data band
 * when the client asked for side-band-64k.
 */
export function pushReport(
  capabilities: ReadonlySet<string>,
  unpackError: string | null,
  refs: readonly RefReport[],
  messages: readonly string[],
): Buffer {
  const status = Buffer.concat([
    pktLine(`unpack ${unpackError ?? "ok"}\n`),
    ...refs.map((r) =>
      pktLine(r.error === null ? `ok ${r.ref}\n` : `ng ${r.ref} ${oneLine(r.error)}\n`),
    ),
    FLUSH,
  ]);
  if (!capabilities.has("side-band-64k")) return status;
  const progress = messages.map((m) => sideBand(2, Buffer.from(`${m}\n`)));
  return Buffer.concat([...progress, sideBand(1, status), FLUSH]);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
