// Component tests of the agent-side relay (images/agent-common/relay.c): built with the agent
// images' compile line and run as a process, the way the image's entry point runs it; real loopback
// ports, real unix sockets.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { RELAY_READY_LINE } from "../../src/backend/docker/launch.js";
import type { RelayRun } from "../helpers/relay-process.js";
import { buildRelay, freePort, runRelay, startRelayProcess } from "../helpers/relay-process.js";

const TEST_TIMEOUT = 20_000;
const WAIT = 5_000;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${ms} ms: ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A unix-socket server: echoes, or (upper) answers the whole input upper-cased after the client ends. */
async function startUnixServer(
  socketPath: string,
  mode: "echo" | "upper",
): Promise<{ server: net.Server; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    if (mode === "echo") {
      socket.pipe(socket);
      return;
    }
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("end", () => {
      setTimeout(() => socket.end(text.toUpperCase()), 50);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { server, sockets };
}

async function closeServer(server: net.Server): Promise<void> {
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

/** Connects, writes, optionally ends, and collects everything until the relay closes. */
async function exchange(
  port: number,
  text: string,
  end: boolean,
): Promise<{ data: string; closed: boolean }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let data = "";
  const closed = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
    socket.once("close", () => {
      resolve();
    });
  });
  socket.write(text);
  if (end) socket.end();
  try {
    await withTimeout(closed, WAIT, "the relay to close the connection");
    return { data, closed: true };
  } finally {
    socket.destroy();
  }
}

async function echoOnce(
  port: number,
  text: string,
): Promise<{ socket: net.Socket; reply: string }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let reply = "";
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.length >= text.length) resolve();
    });
  });
  socket.write(text);
  await withTimeout(done, WAIT, "the echo through the relay");
  return { socket, reply };
}

async function connectResult(port: number): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const probe = net.connect(port, "127.0.0.1");
      probe.on("connect", () => {
        probe.destroy();
        resolve("connected");
      });
      probe.on("error", (error: NodeJS.ErrnoException) => {
        resolve(error.code ?? "error");
      });
    }),
    WAIT,
    "a connection attempt",
  );
}

/** Sends `size` bytes from `from` and reads them at `to`, pausing the reader a while; their hash. */
async function bulk(
  from: net.Socket,
  to: net.Socket,
  size: number,
): Promise<{ sent: string; received: string }> {
  const sent = createHash("sha256");
  const received = createHash("sha256");
  let got = 0;
  const done = new Promise<void>((resolve) => {
    to.on("data", (chunk: Buffer) => {
      received.update(chunk);
      got += chunk.length;
      if (got >= size) resolve();
    });
  });
  // The reader stops for a while: the relay must hold back, not drop, what it cannot pass on.
  to.pause();
  setTimeout(() => to.resume(), 300);
  const block = Buffer.alloc(64 * 1024);
  for (let off = 0; off < size; off += block.length) {
    block.fill(off & 0xff);
    block.writeUInt32BE(off, 0);
    sent.update(block);
    if (!from.write(block)) await new Promise((resolve) => from.once("drain", resolve));
  }
  await withTimeout(done, 30_000, "the bulk transfer through the relay");
  return { sent: sent.digest("hex"), received: received.digest("hex") };
}

describe("relay", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-relay-"));
  const echoPath = path.join(tmp, "echo.sock");
  const upperPath = path.join(tmp, "upper.sock");
  let echo: Awaited<ReturnType<typeof startUnixServer>>;
  let upper: Awaited<ReturnType<typeof startUnixServer>>;
  let binary = "";

  before(async () => {
    binary = buildRelay();
    echo = await startUnixServer(echoPath, "echo");
    upper = await startUnixServer(upperPath, "upper");
  });

  after(async () => {
    for (const socket of [...echo.sockets, ...upper.sockets]) socket.destroy();
    await closeServer(echo.server);
    await closeServer(upper.server);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(path.dirname(binary), { recursive: true, force: true });
  });

  async function relayFor(sockets: string[], test: (relay: RelayRun) => Promise<void>) {
    const relay = await startRelayProcess(binary, sockets);
    try {
      await test(relay);
    } finally {
      await withTimeout(relay.stop(), WAIT, "the relay to stop");
    }
  }

  it(
    "prints the ready line, pipes each port to its own socket, passes a half-close",
    { timeout: TEST_TIMEOUT },
    async () => {
      await relayFor([echoPath, upperPath], async (relay) => {
        assert.equal(relay.stdout(), `${RELAY_READY_LINE}\n`);
        const [echoPort, upperPort] = relay.ports;
        assert.ok(echoPort !== undefined && upperPort !== undefined);
        const { socket, reply } = await echoOnce(echoPort, "hello through the relay");
        assert.equal(reply, "hello through the relay");
        socket.destroy();
        // The client ends its side first and still gets the whole answer (half-close passes through).
        const answer = await exchange(upperPort, "shout", true);
        assert.deepEqual(answer, { data: "SHOUT", closed: true });
      });
    },
  );

  it(
    "passes 48 MiB each way intact past a reader that stops a while",
    { timeout: 60_000 },
    async () => {
      await relayFor([echoPath], async (relay) => {
        const socket = net.connect(relay.ports[0] ?? 0, "127.0.0.1");
        await new Promise<void>((resolve) => socket.once("connect", resolve));
        // Echo: the upload goes client > relay > gate, the answer gate > relay > client.
        const { sent, received } = await bulk(socket, socket, 48 * 1024 * 1024);
        assert.equal(received, sent);
        socket.destroy();
      });
    },
  );

  it(
    "closes the client connection when the unix socket is gone (fail closed)",
    { timeout: TEST_TIMEOUT },
    async () => {
      const gonePath = path.join(tmp, "gone.sock");
      const gone = await startUnixServer(gonePath, "echo");
      await relayFor([gonePath, path.join(tmp, "never-existed.sock")], async (relay) => {
        const [gonePort, missingPort] = relay.ports;
        assert.ok(gonePort !== undefined && missingPort !== undefined);
        const alive = await echoOnce(gonePort, "alive");
        assert.equal(alive.reply, "alive");
        alive.socket.destroy();

        await closeServer(gone.server);
        assert.equal(fs.existsSync(gonePath), false);
        assert.deepEqual(await exchange(gonePort, "anyone?", false), { data: "", closed: true });
        assert.deepEqual(await exchange(missingPort, "anyone?", false), { data: "", closed: true });
        // Still listening, still failing closed.
        assert.deepEqual(await exchange(gonePort, "again?", false), { data: "", closed: true });
      });
    },
  );

  it("cuts the client when the gate fails mid-connection", { timeout: TEST_TIMEOUT }, async () => {
    // The gate reads nothing and closes with the client's bytes unread: the relay's side of the
    // unix socket then fails (ECONNRESET) and the relay closes the client's connection.
    const failPath = path.join(tmp, "fail.sock");
    const gateSides: net.Socket[] = [];
    const fail = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      gateSides.push(socket);
    });
    await new Promise<void>((resolve) => fail.listen(failPath, resolve));
    try {
      await relayFor([failPath], async (relay) => {
        const socket = net.connect(relay.ports[0] ?? 0, "127.0.0.1");
        socket.on("error", () => undefined);
        const closed = new Promise<void>((resolve) =>
          socket.once("close", () => {
            resolve();
          }),
        );
        socket.write("unread by the gate");
        await withTimeout(
          (async () => {
            while (gateSides.length === 0) await new Promise((r) => setTimeout(r, 10));
          })(),
          WAIT,
          "the gate connection",
        );
        gateSides[0]?.destroy();
        await withTimeout(closed, WAIT, "the client to be cut after the gate failed");
        // The gate gone: still listening, still failing closed.
        await closeServer(fail);
        assert.deepEqual(await exchange(relay.ports[0] ?? 0, "x", false), {
          data: "",
          closed: true,
        });
      });
    } finally {
      for (const socket of gateSides) socket.destroy();
      if (fail.listening) await closeServer(fail);
    }
  });

  it("closes the gate side when the client resets", { timeout: TEST_TIMEOUT }, async () => {
    await relayFor([echoPath], async (relay) => {
      const port = relay.ports[0];
      assert.ok(port !== undefined);
      const { socket } = await echoOnce(port, "then reset");
      const gateSide = echo.sockets.at(-1);
      assert.ok(gateSide);
      const gateClosed = new Promise<void>((resolve) =>
        gateSide.once("close", () => {
          resolve();
        }),
      );
      socket.resetAndDestroy();
      await withTimeout(gateClosed, WAIT, "the gate side to close after a client reset");
      const again = await echoOnce(port, "still relaying");
      assert.equal(again.reply, "still relaying");
      again.socket.destroy();
    });
  });

  it(
    "exits 0 on SIGTERM, closing open connections and the ports",
    { timeout: TEST_TIMEOUT },
    async () => {
      const relay = await startRelayProcess(binary, [echoPath]);
      const port = relay.ports[0];
      assert.ok(port !== undefined);
      const { socket } = await echoOnce(port, "open");
      const serverSide = echo.sockets.at(-1);
      assert.ok(serverSide);
      const clientClosed = new Promise<void>((resolve) =>
        socket.once("close", () => {
          resolve();
        }),
      );
      const serverClosed = new Promise<void>((resolve) =>
        serverSide.once("close", () => {
          resolve();
        }),
      );
      assert.equal(await withTimeout(relay.stop(), WAIT, "the relay to exit"), 0);
      await withTimeout(clientClosed, WAIT, "the client connection to close");
      await withTimeout(serverClosed, WAIT, "the gate side to close");
      assert.equal(await connectResult(port), "ECONNREFUSED");
      assert.equal(relay.stderr(), "");
    },
  );

  it(
    "exits 2 when a port is taken, with no ready line and nothing listening",
    { timeout: TEST_TIMEOUT },
    async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const address = taken.address();
      assert.ok(address !== null && typeof address === "object");
      const otherPort = await freePort();
      try {
        const run = runRelay(binary, [`${otherPort}=${echoPath}`, `${address.port}=${echoPath}`]);
        assert.equal(await withTimeout(run.exited, WAIT, "the relay to exit"), 2);
        assert.equal(run.stdout(), "");
        assert.match(run.stderr(), /EADDRINUSE/);
        assert.equal(await connectResult(otherPort), "ECONNREFUSED");
      } finally {
        await closeServer(taken);
      }
    },
  );

  it(
    "exits 2 on arguments it does not support, printing nothing on stdout",
    { timeout: TEST_TIMEOUT },
    async () => {
      for (const args of [
        [],
        ["--"],
        ["3128=/a", "--", "sh"],
        ["3128"],
        ["x=/a"],
        ["31x8=/a"],
        ["3128=relative.sock"],
        ["0=/a"],
        ["70000=/a"],
        ["123456=/a"],
        ["=/a"],
        [`3128=/${"x".repeat(200)}`],
      ]) {
        const run = runRelay(binary, args);
        const code = await withTimeout(run.exited, WAIT, `relay ${args.join(" ")} to exit`);
        assert.equal(code, 2, JSON.stringify(args));
        assert.equal(run.stdout(), "", JSON.stringify(args));
        assert.match(run.stderr(), /PORT=SOCKET/, JSON.stringify(args));
      }
    },
  );
});
