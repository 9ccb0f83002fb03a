// Component tests of the agent-side relay: real loopback ports, real unix sockets, and the compiled
// relay run alone as relay.mjs, the way the agent image runs it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RELAY_READY_LINE, parseRelayArgs, startRelay } from "../../src/relay/relay.js";

const TEST_TIMEOUT = 20_000;
const WAIT = 5_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const compiledRelay = path.resolve(here, "../../src/relay/relay.js");
const sourceRelay = path.resolve(here, "../../../src/relay/relay.ts");

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

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  await closeServer(server);
  return address.port;
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

describe("relay", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-relay-"));
  const echoPath = path.join(tmp, "echo.sock");
  const upperPath = path.join(tmp, "upper.sock");
  let echo: Awaited<ReturnType<typeof startUnixServer>>;
  let upper: Awaited<ReturnType<typeof startUnixServer>>;

  before(async () => {
    echo = await startUnixServer(echoPath, "echo");
    upper = await startUnixServer(upperPath, "upper");
  });

  after(async () => {
    for (const socket of [...echo.sockets, ...upper.sockets]) socket.destroy();
    await closeServer(echo.server);
    await closeServer(upper.server);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("imports only node: modules (it is copied alone into the agent image)", () => {
    for (const file of [sourceRelay, compiledRelay]) {
      const text = fs.readFileSync(file, "utf8");
      const specifiers = [
        ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+["']([^"']+)["']/g),
      ]
        .map((match) => match[1])
        .concat([...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']/g)].map((match) => match[1]));
      assert.ok(specifiers.length > 0, `found no imports in ${file}`);
      for (const specifier of specifiers)
        assert.match(specifier ?? "", /^node:/, `${file} imports ${specifier}`);
    }
  });

  it(
    "pipes a loopback port to a unix socket, each port to its own socket",
    { timeout: TEST_TIMEOUT },
    async () => {
      const relay = await startRelay([
        { port: 0, socket: echoPath },
        { port: 0, socket: upperPath },
      ]);
      try {
        assert.equal(relay.ports.length, 2);
        const [echoPort, upperPort] = relay.ports;
        assert.ok(echoPort !== undefined && upperPort !== undefined && echoPort !== upperPort);
        const { socket, reply } = await echoOnce(echoPort, "hello through the relay");
        assert.equal(reply, "hello through the relay");
        socket.destroy();
        // The client ends its side first and still gets the whole answer (half-close passes through).
        const answer = await exchange(upperPort, "shout", true);
        assert.deepEqual(answer, { data: "SHOUT", closed: true });
      } finally {
        await withTimeout(relay.close(), WAIT, "relay.close()");
      }
    },
  );

  it(
    "closes the client connection when the unix socket is gone (fail closed)",
    { timeout: TEST_TIMEOUT },
    async () => {
      const gonePath = path.join(tmp, "gone.sock");
      const gone = await startUnixServer(gonePath, "echo");
      const relay = await startRelay([
        { port: 0, socket: gonePath },
        { port: 0, socket: path.join(tmp, "never-existed.sock") },
      ]);
      try {
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
      } finally {
        await withTimeout(relay.close(), WAIT, "relay.close()");
      }
    },
  );

  it("closes the gate side when the client resets", { timeout: TEST_TIMEOUT }, async () => {
    const relay = await startRelay([{ port: 0, socket: echoPath }]);
    try {
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
    } finally {
      await withTimeout(relay.close(), WAIT, "relay.close()");
    }
  });

  it(
    "close() stops listening and destroys open connections",
    { timeout: TEST_TIMEOUT },
    async () => {
      const relay = await startRelay([{ port: 0, socket: echoPath }]);
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
      await withTimeout(relay.close(), WAIT, "relay.close()");
      await withTimeout(clientClosed, WAIT, "the client connection to close");
      await withTimeout(serverClosed, WAIT, "the gate side to close");
      assert.equal(await connectResult(port), "ECONNREFUSED");
    },
  );

  it(
    "rejects when a port is taken, leaving nothing listening",
    { timeout: TEST_TIMEOUT },
    async () => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const address = taken.address();
      assert.ok(address !== null && typeof address === "object");
      const otherPort = await freePort();
      try {
        await assert.rejects(
          startRelay([
            { port: otherPort, socket: echoPath },
            { port: address.port, socket: echoPath },
          ]),
          /EADDRINUSE/,
        );
        assert.equal(await connectResult(otherPort), "ECONNREFUSED");
      } finally {
        await closeServer(taken);
      }
    },
  );

  it("parses PORT=SOCKET arguments and refuses anything else", () => {
    assert.deepEqual(parseRelayArgs(["3128=/run/bot-bottle/egress.sock", "3129=/run/b c.sock"]), [
      { port: 3128, socket: "/run/bot-bottle/egress.sock" },
      { port: 3129, socket: "/run/b c.sock" },
    ]);
    for (const bad of [
      [],
      ["--"],
      ["3128=/a", "--", "sh"],
      ["3128"],
      ["x=/a"],
      ["3128=relative.sock"],
      ["0=/a"],
      ["70000=/a"],
      ["=/a"],
    ]) {
      assert.throws(() => parseRelayArgs(bad), /PORT=SOCKET/, JSON.stringify(bad));
    }
  });

  it(
    "runs alone as relay.mjs: ready line, relays, exits 0 on SIGTERM",
    { timeout: TEST_TIMEOUT },
    async () => {
      const alone = path.join(tmp, "image");
      fs.mkdirSync(alone);
      const script = path.join(alone, "relay.mjs");
      fs.copyFileSync(compiledRelay, script);
      const port = await freePort();
      const child = spawn(process.execPath, [script, `${port}=${echoPath}`], {
        cwd: alone,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => {
          resolve(code);
        }),
      );
      try {
        let stdout = "";
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            child.stdout.on("data", (chunk: Buffer) => {
              stdout += chunk.toString();
              if (stdout.includes("\n")) resolve();
            });
            child.once("exit", () => {
              reject(new Error(`relay exited early: ${stderr}`));
            });
          }),
          WAIT,
          "the ready line",
        );
        assert.equal(stdout, `${RELAY_READY_LINE}\n`);
        const { socket, reply } = await echoOnce(port, "from the agent");
        assert.equal(reply, "from the agent");
        const closed = new Promise<void>((resolve) =>
          socket.once("close", () => {
            resolve();
          }),
        );
        child.kill("SIGTERM");
        assert.equal(await withTimeout(exited, WAIT, "the relay to exit"), 0);
        await withTimeout(closed, WAIT, "the open connection to close");
        assert.equal(stderr, "");
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    },
  );

  it(
    "exits with an error on arguments it does not support",
    { timeout: TEST_TIMEOUT },
    async () => {
      for (const args of [[], ["3128=/run/x.sock", "--", "sh", "-c", "true"], ["nonsense"]]) {
        const child = spawn(process.execPath, [compiledRelay, ...args], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const code = await withTimeout(
          new Promise<number | null>((resolve) =>
            child.once("exit", (c) => {
              resolve(c);
            }),
          ),
          WAIT,
          `relay ${args.join(" ")} to exit`,
        ).finally(() => {
          if (child.exitCode === null) child.kill("SIGKILL");
        });
        assert.equal(code, 2, JSON.stringify(args));
        assert.equal(stdout, "");
        assert.match(stderr, /PORT=SOCKET/);
      }
    },
  );
});
