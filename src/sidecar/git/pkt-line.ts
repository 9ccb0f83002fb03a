/**
 * git's pkt-line framing, PURE: a 4-digit hex length (counting itself) then the payload; `0000`
 * is a flush. Side-band multiplexing puts a band byte (1 data, 2 progress, 3 error) before each
 * payload. See git's Documentation/gitprotocol-common.txt and gitprotocol-pack.txt.
 */

export const FLUSH = Buffer.from("0000");
/** Largest payload of one pkt-line. */
const MAX_PAYLOAD = 65516;
/** Largest payload of one side-band-64k packet, after its band byte. */
const MAX_BAND_PAYLOAD = MAX_PAYLOAD - 1;

export function pktLine(payload: string | Buffer): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  if (data.length > MAX_PAYLOAD) throw new RangeError("pkt-line payload too long");
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, "0")), data]);
}

export type SideBand = 1 | 2 | 3;

/** `data` on a side band, split into packets that fit side-band-64k. */
export function sideBand(band: SideBand, data: Buffer): Buffer {
  const packets: Buffer[] = [];
  for (let at = 0; at < data.length; at += MAX_BAND_PAYLOAD) {
    const chunk = data.subarray(at, at + MAX_BAND_PAYLOAD);
    packets.push(pktLine(Buffer.concat([Buffer.from([band]), chunk])));
  }
  return Buffer.concat(packets);
}

export class PktLineError extends Error {
  override readonly name = "PktLineError";
}

/**
 * Reads pkt-lines from `data` at `offset` up to and including the next flush. Returns the payloads
 * (without their length) and the offset after the flush, or null when `data` ends before the flush
 * (read more and try again). Throws PktLineError on a malformed length.
 */
export function readUntilFlush(data: Buffer, offset = 0): { lines: Buffer[]; end: number } | null {
  const lines: Buffer[] = [];
  let at = offset;
  for (;;) {
    if (data.length < at + 4) return null;
    const head = data.toString("latin1", at, at + 4);
    if (!/^[0-9a-f]{4}$/.test(head)) throw new PktLineError(`bad pkt-line length "${head}"`);
    const length = Number.parseInt(head, 16);
    if (length === 0) return { lines, end: at + 4 };
    if (length < 4) throw new PktLineError(`bad pkt-line length ${length}`);
    if (data.length < at + length) return null;
    lines.push(data.subarray(at + 4, at + length));
    at += length;
  }
}

/** A payload as text, without its trailing newline. */
export function lineText(payload: Buffer): string {
  const text = payload.toString("utf8");
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}
