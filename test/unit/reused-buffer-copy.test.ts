// The reused-buffer copy of a tunnel's download side, on real loopback sockets: every byte arrives
// in order even when the far end reads slowly (the buffer is read into again only once the target
// holds none of it), the source's end is passed on, and a source without `onread` still copies.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { ReusedBufferCopy } from "../../src/sidecar/shared/reused-buffer-copy.js";

const TEST_TIMEOUT = 30_000;

/** Bytes that differ from read to read, so a buffer overwritten too early shows. */
function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += 32) {
    crypto.createHash("sha256").update(String(offset)).digest().copy(out, offset);
  }
  return out;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

/**
 * source server (TCP) --(copy)--> unix socket --> slow reader. Returns what the reader got and whether
 * its end came through.
 */
async function copyOnce(
  data: Buffer,
  useOnread: boolean,
): Promise<{ got: Buffer; ended: boolean }> {
  const source = net.createServer((socket) => {
    socket.end(data);
  });
  let done: (value: { got: Buffer; ended: boolean }) => void = () => undefined;
  const received = new Promise<{ got: Buffer; ended: boolean }>((resolve) => (done = resolve));
  const sink = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on("data", (chunk: Buffer) => {
      chunks.push(Buffer.from(chunk));
      // A slow reader: the sender's writes back up, so the copy must wait for them.
      socket.pause();
      setTimeout(() => socket.resume(), 2);
    });
    socket.once("end", () => {
      ended = true;
      socket.end();
    });
    socket.once("close", () => {
      done({ got: Buffer.concat(chunks), ended });
    });
  });
  const sourcePort = await listen(source);
  // The far end on a unix socket: its small buffers fill soon, so writes back up.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "copy-"));
  const sinkPath = path.join(dir, "sink.sock");
  await new Promise<void>((resolve) => sink.listen(sinkPath, resolve));
  const target = net.connect(sinkPath);
  await new Promise((resolve) => target.once("connect", resolve));
  const copy = new ReusedBufferCopy(target, 16 * 1024);
  const upstream = net.connect({
    port: sourcePort,
    host: "127.0.0.1",
    ...(useOnread ? { onread: copy.onread } : {}),
  });
  copy.attach(upstream);
  try {
    return await received;
  } finally {
    upstream.destroy();
    target.destroy();
    source.close();
    sink.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("reused-buffer copy", () => {
  it(
    "passes every byte in order to a slow reader, then the end",
    { timeout: TEST_TIMEOUT },
    async () => {
      const data = pattern(8 * 1024 * 1024);
      const { got, ended } = await copyOnce(data, true);
      assert.equal(got.length, data.length);
      assert.ok(got.equals(data), "the bytes differ: the buffer was read into while still held");
      assert.equal(ended, true);
    },
  );

  it("copies from a socket made without onread too", { timeout: TEST_TIMEOUT }, async () => {
    const data = pattern(2 * 1024 * 1024);
    const { got, ended } = await copyOnce(data, false);
    assert.ok(got.equals(data));
    assert.equal(ended, true);
  });
});
