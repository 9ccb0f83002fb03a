/**
 * The one gate server shape: every gate (egress, credentials, git) and the control API stop with
 * their connections closed, refuse to listen over a file that is not a socket, and survive an
 * audit sink that throws. Real servers on loopback and unix sockets.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { ControlServer } from "../../src/sidecar/control-server.js";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { GitGate } from "../../src/sidecar/git/git-gate.js";
import { guardedSink } from "../../src/sidecar/shared/gate-server.js";
import { buildRelay, startRelayProcess } from "../helpers/relay-process.js";

interface Gate {
  listen(
    target:
      | { host: string; port: number }
      | { path: string; mode?: number; guard?: { refusal(): string | undefined } },
  ): Promise<void>;
  address(): number;
  stop(): Promise<void>;
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "bb-gate-server-"));
}

const throwing = (): void => {
  throw new Error("audit sink broke");
};

const gates: Record<string, () => Gate> = {
  egress: () =>
    new EgressProxy({
      decide: () => ({ verdict: "deny", rule: "x", reason: "x" }),
      audit: throwing,
    }),
  credentials: () => new CredentialProxy({ routes: [], audit: throwing }),
  git: () =>
    new GitGate({
      repos: [],
      mirrorDir: tmpDir(),
      upstreamEnv: () => ({}),
      scan: () => Promise.resolve([]),
      dlp: "block",
      audit: throwing,
    }),
};

/** A client that sent half a request head and waits; resolves when the server closes it. */
async function halfRequest(port: number): Promise<{ closed: Promise<void> }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  socket.write("GET /x HTTP/1.1\r\nHost: a");
  socket.on("error", () => undefined);
  return {
    closed: new Promise<void>((resolve) =>
      socket.once("close", () => {
        resolve();
      }),
    ),
  };
}

describe("gate server", () => {
  for (const [name, make] of Object.entries(gates)) {
    it(`${name}: stop() closes a connection in the middle of a request and resolves`, async () => {
      const gate = make();
      await gate.listen({ host: "127.0.0.1", port: 0 });
      const { closed } = await halfRequest(gate.address());
      const started = Date.now();
      await gate.stop();
      await closed;
      assert.ok(Date.now() - started < 2_000, "stop did not wait for the client");
    });

    it(`${name}: refuses to listen where a file that is not a socket lies, and keeps the file`, async () => {
      const file = path.join(tmpDir(), "gate.sock");
      fs.writeFileSync(file, "the operator's file");
      await assert.rejects(make().listen({ path: file }), /not a socket/);
      assert.equal(fs.readFileSync(file, "utf8"), "the operator's file");
    });
  }

  it("a refused connection gets its 503 and reason whole, even with a request body unread", async () => {
    // As observed through the relay after a sidecar restart (here through the agent's relay too,
    // built and run as in the image): the answer was written and the socket closed with the
    // client's request unread, which reset the connection under the answer ("Empty reply from
    // server").
    const socketPath = path.join(tmpDir(), "egress.sock");
    const gate = gates["egress"]?.();
    assert.ok(gate !== undefined);
    await gate.listen({ path: socketPath, guard: { refusal: () => "waiting for its secrets" } });
    const binary = buildRelay();
    const relay = await startRelayProcess(binary, [socketPath]);
    const body = "x".repeat(256 * 1024);
    try {
      for (let i = 0; i < 20; i++) {
        const answer = await new Promise<string>((resolve) => {
          const socket = net.connect(relay.ports[0] ?? 0, "127.0.0.1");
          const chunks: Buffer[] = [];
          socket.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
          });
          socket.on("error", () => undefined);
          socket.on("close", () => {
            resolve(Buffer.concat(chunks).toString("latin1"));
          });
          socket.write(
            `POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
          );
        });
        assert.match(answer, /^HTTP\/1\.1 503 [^]*waiting for its secrets\n$/, `attempt ${i}`);
      }
    } finally {
      assert.equal(await relay.stop(), 0);
      fs.rmSync(path.dirname(binary), { recursive: true, force: true });
      await gate.stop();
    }
  });

  it("control API: refuses a file in the way instead of removing it; the socket is 0600", async () => {
    const handlers = {
      health: () => ({ ok: true, state: "ready" as const, identity: "t", gates: [] }),
      setSecrets: () => undefined,
      getPolicy: () => ({ allow: [], deny: [] }),
      editPolicy: () => ({ allow: [], deny: [] }),
      savePolicy: () => undefined,
      setPushBranches: () => undefined,
    };
    const dir = tmpDir();
    const file = path.join(dir, "control.sock");
    fs.writeFileSync(file, "keep me");
    await assert.rejects(new ControlServer(handlers).listen({ path: file, mode: 0o600 }));
    assert.equal(fs.readFileSync(file, "utf8"), "keep me");
    fs.rmSync(file);
    const control = new ControlServer(handlers);
    await control.listen({ path: file, mode: 0o600 });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    await control.stop();
  });

  it("git: an audit sink that throws does not turn an upstream failure into a 500", async () => {
    const dir = tmpDir();
    const gate = new GitGate({
      repos: [
        {
          name: "app",
          upstream: "ssh://git@127.0.0.1:9/nothing.git",
          push: { branches: [], force: false, delete: false, max_size_bytes: 1 },
        },
      ],
      mirrorDir: dir,
      upstreamEnv: () => ({ GIT_SSH_COMMAND: "false", PATH: process.env.PATH ?? "" }),
      scan: () => Promise.resolve([]),
      dlp: "block",
      audit: throwing,
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    try {
      const response = await fetch(
        `http://127.0.0.1:${gate.address()}/app/info/refs?service=git-upload-pack`,
      );
      assert.equal(response.status, 502, await response.text());
    } finally {
      await gate.stop();
    }
  });

  it("guardedSink swallows a throw and passes entries through", () => {
    const seen: number[] = [];
    guardedSink((n: number) => seen.push(n))(1);
    assert.doesNotThrow(() => {
      guardedSink(throwing)(2);
    });
    assert.deepEqual(seen, [1]);
  });
});
