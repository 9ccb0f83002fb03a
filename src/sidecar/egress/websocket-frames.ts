/**
 * An incremental reader of WebSocket frames (RFC 6455), PURE: bytes in, frames out. Used on the
 * agent's side of a bridged WebSocket to see what it sends. Each frame keeps its bytes as read
 * (`raw`, forwarded unchanged once judged) beside its unmasked payload.
 *
 * Refused (the caller closes the connection with the error's code):
 * - 1002 protocol error: reserved bits set (the gate lets no extension be negotiated), an
 *   unmasked frame from the client, a control frame (close, ping, pong) longer than 125 bytes
 *   or fragmented, a close frame of one byte, a reserved opcode (3-7, 0xB-0xF);
 * - 1009 too big: a frame larger than `maxFrame`.
 */

export interface WsFrame {
  fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  payload: Buffer;
  /** The frame's bytes as they arrived (masked). */
  raw: Buffer;
}

/** 1002 protocol error, 1008 policy violation, 1009 message too big. */
export interface WsViolation {
  code: 1002 | 1008 | 1009;
  error: string;
}

export type WsReadResult = { ok: true; frames: WsFrame[] } | ({ ok: false } & WsViolation);

const KNOWN_OPCODES = new Set([0, 1, 2, 8, 9, 10]);
const MAX_CONTROL_PAYLOAD = 125;

export function isControl(opcode: number): boolean {
  return opcode >= 8;
}

/** Checks a frame head (its first two bytes and length) against RFC 6455; null when it is fine. */
export function frameHeadViolation(b0: number, b1: number, length: number): WsViolation | null {
  const opcode = b0 & 0x0f;
  if ((b0 & 0x70) !== 0)
    return { code: 1002, error: "a frame sets reserved bits (no extension was negotiated)" };
  if (!KNOWN_OPCODES.has(opcode))
    return { code: 1002, error: `a frame uses the reserved opcode ${opcode}` };
  if ((b1 & 0x80) === 0) return { code: 1002, error: "a client frame is not masked" };
  if (isControl(opcode) && (b0 & 0x80) === 0)
    return { code: 1002, error: "a control frame is fragmented" };
  if (isControl(opcode) && length > MAX_CONTROL_PAYLOAD)
    return { code: 1002, error: `a control frame carries ${length} bytes (at most 125)` };
  if (opcode === 8 && length === 1)
    return { code: 1002, error: "a close frame carries one byte (its status code needs two)" };
  return null;
}

export class WebSocketFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame: number) {}

  /** Bytes of an unfinished frame held until the rest arrives. */
  pendingBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): WsReadResult {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: WsFrame[] = [];
    for (;;) {
      const buf = this.pending;
      if (buf.length < 2) break;
      const b0 = buf[0] ?? 0;
      const b1 = buf[1] ?? 0;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(this.maxFrame)) return tooLarge();
        length = Number(big);
        offset = 10;
      }
      const violation = frameHeadViolation(b0, b1, length);
      if (violation !== null) return { ok: false, ...violation };
      if (length > this.maxFrame) return tooLarge();
      const maskAt = offset;
      offset += 4;
      if (buf.length < offset + length) break;
      const payload = Buffer.from(buf.subarray(offset, offset + length));
      for (let i = 0; i < payload.length; i += 1) {
        payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i % 4)] ?? 0);
      }
      const raw = Buffer.from(buf.subarray(0, offset + length));
      frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload, raw });
      this.pending = buf.subarray(offset + length);
    }
    return { ok: true, frames };
  }
}

function tooLarge(): WsReadResult {
  return { ok: false, code: 1009, error: "a frame is too large" };
}

/** An unmasked close frame (server to client) with a status code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 120), "utf8");
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}
