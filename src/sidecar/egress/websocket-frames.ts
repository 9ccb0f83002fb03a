/**
 * An incremental reader of WebSocket frames (RFC 6455), PURE: bytes in, frames out. Used on the
 * agent's side of a bridged WebSocket to see what it sends; the bytes themselves are forwarded
 * unchanged by the caller. Masked payloads are unmasked in the copy handed out.
 *
 * A frame larger than `maxFrame`, or with reserved bits set (an extension the gate did not let
 * the two sides negotiate, such as compression), is an error: the caller closes the connection.
 */

export interface WsFrame {
  fin: boolean;
  /** 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  payload: Buffer;
}

export type WsReadResult = { ok: true; frames: WsFrame[] } | { ok: false; error: string };

export class WebSocketFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): WsReadResult {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: WsFrame[] = [];
    for (;;) {
      const buf = this.pending;
      if (buf.length < 2) break;
      const b0 = buf[0] ?? 0;
      const b1 = buf[1] ?? 0;
      if ((b0 & 0x70) !== 0) return { ok: false, error: "a frame uses an unnegotiated extension" };
      const masked = (b1 & 0x80) !== 0;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(this.maxFrame)) return { ok: false, error: "a frame is too large" };
        length = Number(big);
        offset = 10;
      }
      if (length > this.maxFrame) return { ok: false, error: "a frame is too large" };
      const maskAt = offset;
      if (masked) offset += 4;
      if (buf.length < offset + length) break;
      const payload = Buffer.from(buf.subarray(offset, offset + length));
      if (masked) {
        for (let i = 0; i < payload.length; i += 1) {
          payload[i] = (payload[i] ?? 0) ^ (buf[maskAt + (i % 4)] ?? 0);
        }
      }
      frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
      this.pending = buf.subarray(offset + length);
    }
    return { ok: true, frames };
  }
}

/** An unmasked close frame (server to client) with a status code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 120), "utf8");
  const body = Buffer.alloc(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return Buffer.concat([Buffer.from([0x88, body.length]), body]);
}
