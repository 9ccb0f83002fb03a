/**
 * Groups the agent's WebSocket frames into what is judged, PURE. A fragmented message (a text or
 * binary frame without `fin`, then continuation frames up to one with `fin`) is held until it is
 * whole, so the content checks see it as one; its frames are forwarded together after the
 * verdict. A control frame (close, ping, pong) is judged on its own and forwarded at once, even
 * between the fragments of a message (RFC 6455 allows that); a close frame is judged on its
 * reason (the bytes after its two-byte status code).
 *
 * Violations (the caller closes with the code): a continuation with no message open, a new
 * message before the open one ended (1002), a message past `maxMessage` bytes (1009).
 */
import type { WsFrame, WsViolation } from "./websocket-frames.js";
import { isControl } from "./websocket-frames.js";

export interface WsJudged {
  /** What the content checks look at; `binary` for control frames. */
  opcode: "text" | "binary";
  payload: Buffer;
  /** The frames' bytes, forwarded unchanged once the payload passed. */
  raw: Buffer[];
  control: boolean;
}

export type WsStep =
  { kind: "hold" } | { kind: "judge"; judged: WsJudged } | ({ kind: "violation" } & WsViolation);

export class WebSocketMessages {
  private open: { opcode: "text" | "binary"; parts: Buffer[]; raw: Buffer[]; size: number } | null =
    null;

  constructor(private readonly maxMessage: number) {}

  /** Bytes of a fragmented message held until it is whole (payloads and raw frames). */
  heldBytes(): number {
    return this.open === null ? 0 : 2 * this.open.size;
  }

  accept(frame: WsFrame): WsStep {
    if (isControl(frame.opcode)) {
      const payload = frame.opcode === 8 ? frame.payload.subarray(2) : frame.payload;
      return {
        kind: "judge",
        judged: { opcode: "binary", payload, raw: [frame.raw], control: true },
      };
    }
    if (frame.opcode === 0) {
      if (this.open === null)
        return {
          kind: "violation",
          code: 1002,
          error: "a continuation frame with no message open",
        };
    } else {
      if (this.open !== null)
        return {
          kind: "violation",
          code: 1002,
          error: "a new message began before the fragmented one ended",
        };
      this.open = { opcode: frame.opcode === 1 ? "text" : "binary", parts: [], raw: [], size: 0 };
    }
    const message = this.open;
    message.parts.push(frame.payload);
    message.raw.push(frame.raw);
    message.size += frame.payload.length;
    if (message.size > this.maxMessage)
      return {
        kind: "violation",
        code: 1009,
        error: `a fragmented message is larger than ${this.maxMessage} bytes`,
      };
    if (!frame.fin) return { kind: "hold" };
    this.open = null;
    return {
      kind: "judge",
      judged: {
        opcode: message.opcode,
        payload:
          message.parts.length === 1
            ? (message.parts[0] ?? Buffer.alloc(0))
            : Buffer.concat(message.parts),
        raw: message.raw,
        control: false,
      },
    };
  }
}
