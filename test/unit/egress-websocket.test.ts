// WebSocket frames the agent sends through an intercepted tunnel, built by hand and written to a
// real socket through the real proxy (real TLS, real DLP inspector): each RFC 6455 violation
// closes the bridge with 1002 before any of it reaches the upstream, control frames are judged,
// fragmented messages are judged whole.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type tls from "node:tls";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { WebSocketFrameReader } from "../../src/sidecar/egress/websocket-frames.js";

import { WebSocketMessages } from "../../src/sidecar/egress/websocket-messages.js";
import { BufferBudget } from "../../src/sidecar/shared/buffer-budget.js";
import type { HarnessUpstream } from "../helpers/egress-harness.js";
import {
  clientFrame,
  collectUntilClose,
  interceptRule,
  interceptedSocket,
  startUpstream,
  unmaskFrames,
  waitFor,
  withInterceptingProxy,
} from "../helpers/egress-harness.js";

const TIMEOUT = 30_000;
// The bottle's own (fake) token, built from pieces.
const TOKEN = ["bbfake", "Q7xK2mN9pR4vT8wZ", "3hJ6"].join("-");
const HOST = "ws.example.test";

/** The status code of the first close frame after the 101 head, or null. */
function closeCode(received: Buffer): number | null {
  const end = received.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const frames = received.subarray(end + 4);
  const at = frames.indexOf(0x88);
  if (at === -1 || frames.length < at + 4) return null;
  return frames.readUInt16BE(at + 2);
}

describe("egress WebSocket frames", () => {
  let upstream: HarnessUpstream & { ca: BottleCa };
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  /** Opens a bridged WebSocket, writes `frames`, returns the close code and what got upstream. */
  async function send(
    frames: Buffer[],
    limits: Record<string, number> = {},
    budget?: BufferBudget,
  ): Promise<{ code: number | null; upstream: Buffer; audit: string }> {
    let result: { code: number | null; upstream: Buffer; audit: string } = {
      code: null,
      upstream: Buffer.alloc(0),
      audit: "",
    };
    const policy = { allow: [interceptRule(HOST, { ports: [upstream.port] })], deny: [] };
    const inspector = new DlpInspector({ ownSecrets: [TOKEN] });
    await withInterceptingProxy(
      policy,
      upstream.ca,
      { inspector, limits, ...(budget === undefined ? {} : { budget }) },
      async ({ port, audits, bottleCa }) => {
        const before = upstream.wsBytes.length;
        const secure: tls.TLSSocket = await interceptedSocket(
          port,
          HOST,
          upstream.port,
          bottleCa.certPem,
        );
        const received = collectUntilClose(secure, 3_000);
        secure.write(
          `GET /socket HTTP/1.1\r\nHost: ${HOST}:${upstream.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        await waitFor(() => upstream.wsBytes.length > before, "the upgrade upstream");
        for (const frame of frames) secure.write(frame);
        const bytes = await received;
        secure.destroy();
        if (bytes.includes(0x88))
          await waitFor(() => audits.some((e) => e.kind === "websocket"), "the audit entry");
        result = {
          code: closeCode(bytes),
          upstream: upstream.wsBytes[before] ?? Buffer.alloc(0),
          audit: JSON.stringify(audits),
        };
      },
    );
    return result;
  }

  it(
    "judges ping, pong and close frames: a secret in one closes with 1008",
    { timeout: TIMEOUT },
    async () => {
      const closeBody = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from(`bye ${TOKEN}`)]);
      for (const frame of [
        clientFrame(0x89, `ping ${TOKEN}`),
        clientFrame(0x8a, `pong ${TOKEN}`),
        clientFrame(0x88, closeBody),
      ]) {
        const seen = await send([frame]);
        assert.equal(seen.code, 1008);
        assert.ok(
          !seen.upstream.toString("latin1").includes("Q7xK2"),
          "nothing of it went upstream",
        );
        assert.match(seen.audit, /dlp:own-secret/);
      }
    },
  );

  it(
    "closes with 1013 when a held fragmented message would pass the sidecar's buffer budget",
    { timeout: TIMEOUT },
    async () => {
      const budget = new BufferBudget(64 * 1024);
      const part = "a".repeat(20 * 1024);
      const seen = await send(
        [clientFrame(0x01, part), clientFrame(0x00, part), clientFrame(0x80, part)],
        {},
        budget,
      );
      assert.equal(seen.code, 1013);
      assert.ok(!seen.upstream.toString("latin1").includes("aaaa"), "nothing of it went upstream");
      await waitFor(() => budget.heldBytes() === 0, "the budget given back");
    },
  );

  it(
    "closes with 1002 on reserved opcodes, RSV bits, long or fragmented control frames",
    { timeout: TIMEOUT },
    async () => {
      const cases: [string, Buffer][] = [
        ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op): [string, Buffer] => [
          `opcode ${op}`,
          clientFrame(0x80 | op, "data"),
        ]),
        ["a 360-byte ping", clientFrame(0x89, "p".repeat(360))],
        ["a 126-byte pong", clientFrame(0x8a, "p".repeat(126))],
        ["a fragmented ping", clientFrame(0x09, "ping")],
        ["RSV1 on a text frame", clientFrame(0xc1, "hello")],
        ["RSV2", clientFrame(0xa1, "hello")],
        ["RSV3", clientFrame(0x91, "hello")],
        ["a continuation with no message", clientFrame(0x80, "tail")],
        ["a one-byte close", clientFrame(0x88, Buffer.from([3]))],
        [
          "a new message inside a fragmented one",
          Buffer.concat([clientFrame(0x01, "first"), clientFrame(0x81, "second")]),
        ],
      ];
      for (const [what, frame] of cases) {
        const seen = await send([frame]);
        assert.equal(seen.code, 1002, what);
        assert.ok(!seen.upstream.toString("latin1").includes("data"), what);
      }
    },
  );

  it(
    "judges a fragmented message whole, holding its fragments until it ends",
    { timeout: TIMEOUT },
    async () => {
      const half = Math.floor(TOKEN.length / 2);
      const seen = await send([
        clientFrame(0x01, `key=${TOKEN.slice(0, half)}`),
        clientFrame(0x89, "keepalive"),
        clientFrame(0x80, TOKEN.slice(half)),
      ]);
      assert.equal(seen.code, 1008);
      const frames = unmaskFrames(seen.upstream);
      // Only the interleaved ping (judged on its own, allowed) went upstream, no fragment.
      assert.deepEqual(
        frames.map((f) => [f.b0, f.payload.toString()]),
        [[0x89, "keepalive"]],
      );
    },
  );

  it(
    "passes an ordinary fragmented message and interleaved ping on, in RFC order",
    { timeout: TIMEOUT },
    async () => {
      const seen = await send([
        clientFrame(0x01, "hello "),
        clientFrame(0x89, "ping"),
        clientFrame(0x00, "big "),
        clientFrame(0x80, "world"),
        clientFrame(0x88, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from("done")])),
      ]);
      const frames = unmaskFrames(seen.upstream);
      assert.deepEqual(
        frames.map((f) => [f.b0, f.payload.toString("latin1")]),
        [
          [0x89, "ping"],
          [0x01, "hello "],
          [0x00, "big "],
          [0x80, "world"],
          [0x88, "\x03\xe8done"],
        ],
      );
    },
  );

  it(
    "closes with 1009 when a fragmented message passes its size cap",
    { timeout: TIMEOUT },
    async () => {
      const seen = await send(
        [clientFrame(0x01, "a".repeat(600)), clientFrame(0x00, "b".repeat(600))],
        { maxWebSocketMessageBytes: 1000 },
      );
      assert.equal(seen.code, 1009);
      assert.equal(unmaskFrames(seen.upstream).length, 0);
    },
  );
});

describe("WebSocket frame rules (pure)", () => {
  it("reads masked frames and refuses unmasked ones", () => {
    const reader = new WebSocketFrameReader(1024);
    const ok = reader.push(clientFrame(0x81, "hi"));
    assert.ok(ok.ok && ok.frames[0]?.payload.toString() === "hi");
    const unmasked = new WebSocketFrameReader(1024).push(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    assert.deepEqual(unmasked.ok ? null : unmasked.code, 1002);
  });

  it("hands a close frame's reason, not its status code, to the checks", () => {
    const reader = new WebSocketFrameReader(1024);
    const read = reader.push(clientFrame(0x88, Buffer.from([0x03, 0xe8, 0x41])));
    const [frame] = read.ok ? read.frames : [];
    assert.ok(frame !== undefined);
    const step = new WebSocketMessages(1024).accept(frame);
    assert.ok(step.kind === "judge" && step.judged.payload.toString() === "A");
  });
});
