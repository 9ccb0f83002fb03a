/**
 * Issue 12, item 4, at the component level: every gate (egress, credentials, git, control) caps
 * its open connections, and request bodies held in memory are capped across the gates; past a
 * cap new work gets 503 and the gate still answers afterwards. Real servers on 127.0.0.1 and a
 * unix socket, raw sockets for the held-open connections and uploads.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { ControlServer } from "../../src/sidecar/control-server.js";
import { CredentialProxy } from "../../src/sidecar/credentials/credential-proxy.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { GitGate } from "../../src/sidecar/git/git-gate.js";
import { BufferBudget } from "../../src/sidecar/shared/buffer-budget.js";
import type { ContentInspector } from "../../src/sidecar/shared/content-inspector.js";
import { GATE_CONNECTIONS } from "../../src/core/contract/sidecar-limits.js";

const MiB = 1024 * 1024;

/** Finds nothing: the tests are about holding bodies, not judging them. */
const inspector: ContentInspector = {
  inspectHost: () => [],
  inspectRequest: () => [],
  newWebSocketScanner: () => ({ frame: () => [] }),
};

type Target = { port: number } | { path: string };

function connect(target: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      "port" in target ? net.connect(target.port, "127.0.0.1") : net.connect(target.path);
    socket.once("connect", () => {
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Everything the server sends until it closes, or what came within `ms`. */
function answer(socket: net.Socket, ms = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const timer = setTimeout(() => {
      resolve(data);
    }, ms);
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.on("error", () => undefined);
  });
}

async function waitFor(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Opens `count` connections that send nothing, then one more: its answer. */
async function overTheCap(
  target: Target,
  count: number,
): Promise<{ held: net.Socket[]; extra: string }> {
  const held: net.Socket[] = [];
  for (let i = 0; i < count; i++) held.push(await connect(target));
  // Let the server see them all before the extra one arrives.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const extra = await connect(target);
  extra.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  return { held, extra: await answer(extra) };
}

function closeAll(sockets: net.Socket[]): void {
  for (const socket of sockets) socket.destroy();
}

/** Starts a POST of `declared` bytes and sends `sent` of them, then holds the connection open. */
async function heldUpload(target: Target, head: string, declared: number, sent: number) {
  const socket = await connect(target);
  const reply = answer(socket, 10_000);
  socket.write(`${head}\r\ncontent-length: ${declared}\r\n\r\n`);
  socket.write(Buffer.alloc(sent, 0x61));
  return { socket, reply };
}

describe("sidecar caps", () => {
  let upstream: http.Server;
  let upstreamPort = 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-caps-"));

  before(async () => {
    upstream = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamPort = (upstream.address() as net.AddressInfo).port;
  });

  after(async () => {
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function egressProxy(budget: BufferBudget, maxConnections = 256): EgressProxy {
    const policy = {
      allow: [
        {
          host: "127.0.0.1",
          ports: [upstreamPort],
          methods: null,
          paths: null,
          tls: "intercept" as const,
          internal: true,
          source: "manifest" as const,
          ...PLAN_RULE_PROVENANCE,
        },
      ],
      deny: [],
    };
    return new EgressProxy({
      decide: (request) => decideEgress(policy, request),
      audit: () => undefined,
      inspector,
      budget,
      limits: { maxConnections },
    });
  }

  it("egress: a connection past the cap gets 503 unread, and the proxy answers after", async () => {
    const proxy = egressProxy(new BufferBudget(64 * MiB), 8);
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    const target = { port: proxy.address() };
    try {
      const { held, extra } = await overTheCap(target, 8);
      assert.match(extra, /^HTTP\/1\.1 503/);
      assert.match(extra, /8 connections open/);
      closeAll(held);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const socket = await connect(target);
      const reply = answer(socket);
      socket.write(
        `GET http://127.0.0.1:${upstreamPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\nconnection: close\r\n\r\n`,
      );
      assert.match(await reply, /^HTTP\/1\.1 200[\s\S]*ok$/);
    } finally {
      await proxy.stop();
    }
  });

  it("egress: held-open uploads past the buffer budget get 503, and the budget comes back", async () => {
    const budget = new BufferBudget(4 * MiB);
    const proxy = egressProxy(budget);
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    const target = { port: proxy.address() };
    const head = `POST http://127.0.0.1:${upstreamPort}/up HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}`;
    try {
      const first = await heldUpload(target, head, 3 * MiB, 1.5 * MiB);
      await waitFor("the first body held", () => budget.heldBytes() >= 1.5 * MiB);
      const second = await heldUpload(target, head, 3 * MiB, 1.5 * MiB);
      await waitFor("the second body held", () => budget.heldBytes() >= 3 * MiB);
      const third = await heldUpload(target, head, 3 * MiB, 1.5 * MiB);
      const refused = await third.reply;
      assert.match(refused, /^HTTP\/1\.1 503/);
      assert.match(refused, /x-bot-bottle-denied: busy/i);
      assert.ok(budget.heldBytes() <= 4 * MiB, `held ${budget.heldBytes()}`);
      closeAll([first.socket, second.socket, third.socket]);
      await waitFor("the budget given back", () => budget.heldBytes() === 0);
      const done = await heldUpload(target, head.replace("/up", "/small"), 10, 10);
      assert.match(await done.reply, /^HTTP\/1\.1 200/);
      done.socket.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it("credentials: caps connections and shares the buffer budget", async () => {
    const budget = new BufferBudget(2 * MiB);
    const proxy = new CredentialProxy({
      routes: [
        {
          name: "api",
          path: "/api",
          upstream: `http://127.0.0.1:${upstreamPort}`,
          role: null,
          inject: "bearer",
        },
      ],
      audit: () => undefined,
      maxConnections: 4,
      budget,
    });
    proxy.setTokens({ api: "fake-token-for-tests" });
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    const target = { port: proxy.address() };
    try {
      const { held, extra } = await overTheCap(target, 4);
      assert.match(extra, /^HTTP\/1\.1 503/);
      closeAll(held);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const head = "POST /api/v1/x HTTP/1.1\r\nHost: 127.0.0.1";
      const first = await heldUpload(target, head, 2 * MiB, 1.5 * MiB);
      await waitFor("the first body held", () => budget.heldBytes() >= 1.5 * MiB);
      const second = await heldUpload(target, head, 2 * MiB, 1 * MiB);
      const refused = await second.reply;
      assert.match(refused, /^HTTP\/1\.1 503/);
      assert.match(refused, /holds as much request data/);
      first.socket.destroy();
      await waitFor("the budget given back", () => budget.heldBytes() === 0);
    } finally {
      await proxy.stop();
    }
  });

  it("git: a connection past the cap gets 503", async () => {
    const gate = new GitGate({
      repos: [],
      mirrorDir: path.join(tmp, "git"),
      upstreamEnv: () => ({}),
      scan: () => Promise.resolve([]),
      dlp: "block",
      audit: () => undefined,
      maxConnections: 4,
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { held, extra } = await overTheCap({ port: gate.address() }, 4);
      assert.match(extra, /^HTTP\/1\.1 503/);
      assert.match(extra, /the git gate has 4 connections open/);
      closeAll(held);
    } finally {
      await gate.stop();
    }
  });

  it("control: a connection past its cap gets 503", async () => {
    const control = new ControlServer({
      health: () => ({ ok: true, state: "ready", identity: "t", gates: [] }),
      setSecrets: () => undefined,
      getPolicy: () => ({ allow: [], deny: [] }),
      editPolicy: () => ({ allow: [], deny: [] }),
      savePolicy: () => undefined,
      setPushBranches: () => undefined,
    });
    const socketPath = path.join(tmp, "control.sock");
    await control.listen({ path: socketPath, mode: 0o600 });
    try {
      const { held, extra } = await overTheCap({ path: socketPath }, GATE_CONNECTIONS.control);
      assert.match(extra, /^HTTP\/1\.1 503/);
      closeAll(held);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await connect({ path: socketPath });
      const reply = answer(again);
      again.write("GET /health HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n");
      assert.match(await reply, /^HTTP\/1\.1 200/);
    } finally {
      await control.stop();
    }
  });
});
