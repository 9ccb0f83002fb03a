// Component tests of the egress proxy: real sockets on 127.0.0.1 and temp unix sockets, real
// local upstreams, the real curl binary and raw Node clients. Nothing leaves the machine.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { AuditEntry } from "../../src/sidecar/egress/egress-audit-entry.js";
import { AuditLog } from "../../src/sidecar/shared/audit-log.js";
import type { EgressDecision, EgressRequest } from "../../src/sidecar/egress/egress-policy.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import type { EgressProxyOptions } from "../../src/sidecar/egress/egress-proxy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";

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

async function waitFor(condition: () => boolean, what: string, ms = WAIT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real curl with no proxy settings from the environment and no .curlrc. */
async function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-q", "-sS", "--max-time", "10", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP upstream that records what it receives and answers with a short JSON body. */
async function startUpstream(): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, {
        "content-type": "application/json",
        connection: "keep-alive, x-upstream-hop",
        "x-upstream-hop": "1",
        "x-upstream": "yes",
      });
      res.end(JSON.stringify({ upstream: "ok", url: req.url, body }));
    });
  });
  const port = await listenTcp(server);
  return { server, port, seen };
}

/** A TCP echo upstream; keeps its sockets so tests can see them close. */
async function startEcho(): Promise<{ server: net.Server; port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  const port = await listenTcp(server);
  return { server, port, sockets };
}

async function listenTcp(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

async function closeServer(server: net.Server | http.Server): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listenTcp(server);
  await closeServer(server);
  return port;
}

/** Sends raw bytes, returns everything received until the proxy closes the connection. */
async function raw(port: number, data: string | Buffer): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  const closed = new Promise<string>((resolve) => {
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
  });
  socket.write(data);
  try {
    return await withTimeout(
      closed,
      WAIT,
      `raw exchange ${JSON.stringify(String(data).slice(0, 40))}`,
    );
  } finally {
    socket.destroy();
  }
}

/** Opens a CONNECT tunnel and returns the socket once the proxy's response head arrived. */
async function openTunnel(
  port: number,
  target: string,
): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let received = "";
  const head = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n\r\n")) {
        socket.off("data", onData);
        resolve(received);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => {
      reject(new Error(`tunnel closed before a response: ${JSON.stringify(received)}`));
    });
  });
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  return { socket, head: await withTimeout(head, WAIT, `CONNECT ${target}`) };
}

async function echoThrough(socket: net.Socket, text: string): Promise<string> {
  let received = "";
  const done = new Promise<string>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length >= text.length) {
        socket.off("data", onData);
        resolve(received);
      }
    };
    socket.on("data", onData);
  });
  socket.write(text);
  return withTimeout(done, WAIT, "echo through the tunnel");
}

async function closedWithin(socket: net.Socket, what: string): Promise<void> {
  if (socket.closed) return;
  await withTimeout(
    new Promise<void>((resolve) =>
      socket.once("close", () => {
        resolve();
      }),
    ),
    WAIT,
    what,
  );
}

function rule(host: string, ports: number[], extra: Partial<PlanEgressRule> = {}): PlanEgressRule {
  return {
    host,
    ports,
    methods: null,
    paths: null,
    tls: "intercept",
    internal: false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
    ...extra,
  };
}

interface Running {
  proxy: EgressProxy;
  port: number;
  audits: AuditEntry[];
  proxyUrl: string;
}

async function withProxy(
  options: Partial<EgressProxyOptions> & Pick<EgressProxyOptions, "decide">,
  body: (running: Running) => Promise<void>,
): Promise<void> {
  const audits: AuditEntry[] = [];
  const proxy = new EgressProxy({ audit: (entry) => audits.push(entry), ...options });
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  const port = proxy.address();
  try {
    await body({ proxy, port, audits, proxyUrl: `http://127.0.0.1:${port}` });
  } finally {
    await withTimeout(proxy.stop(), WAIT, "proxy.stop()");
  }
}

describe("egress proxy", () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let decide: (request: EgressRequest) => EgressDecision;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-egress-"));

  before(async () => {
    upstream = await startUpstream();
    echo = await startEcho();
    const policy = {
      allow: [
        rule("127.0.0.1", [upstream.port]),
        // The echo server speaks neither TLS nor HTTP: only a passthrough tunnel carries it.
        rule("127.0.0.1", [echo.port], { tls: "passthrough" }),
        rule("upstream.test", [80, 443], { tls: "passthrough", internal: true }),
      ],
      deny: ["blocked.example"],
    };
    decide = (request) => decideEgress(policy, request);
  });

  after(async () => {
    await closeServer(upstream.server);
    for (const socket of echo.sockets) socket.destroy();
    await closeServer(echo.server);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(
    "forwards an allowed absolute-form request (curl) and audits it without the query",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide }, async ({ proxyUrl, audits }) => {
        const before = upstream.seen.length;
        const result = await curl([
          "-i",
          "-x",
          proxyUrl,
          "-H",
          "Proxy-Authorization: Basic c2VjcmV0",
          "-H",
          "Connection: keep-alive, X-Hop",
          "-H",
          "X-Hop: drop-me",
          "-H",
          "X-Keep: yes",
          `http://127.0.0.1:${upstream.port}/hello?token=s3cret`,
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^HTTP\/1\.1 200 /);
        assert.match(result.stdout, /x-upstream: yes/i);
        assert.doesNotMatch(result.stdout, /x-upstream-hop/i);
        assert.match(result.stdout, /"upstream":"ok"/);

        assert.equal(upstream.seen.length, before + 1);
        const seen = upstream.seen.at(-1);
        assert.ok(seen);
        assert.equal(seen.url, "/hello?token=s3cret");
        assert.equal(seen.headers.host, `127.0.0.1:${upstream.port}`);
        assert.equal(seen.headers["x-keep"], "yes");
        assert.equal(seen.headers["proxy-authorization"], undefined);
        assert.equal(seen.headers["x-hop"], undefined);

        await waitFor(() => audits.length === 1, "one audit entry");
        const entry = audits[0];
        assert.ok(entry);
        assert.equal(entry.kind, "http");
        assert.equal(entry.method, "GET");
        assert.equal(entry.host, "127.0.0.1");
        assert.equal(entry.port, upstream.port);
        assert.equal(entry.path, "/hello");
        assert.equal(entry.verdict, "allow");
        assert.equal(entry.rule, "allow:127.0.0.1");
        assert.equal(entry.status, 200);
        assert.ok((entry.bytes_down ?? 0) > 0);
        assert.ok(!JSON.stringify(audits).includes("s3cret"));
        assert.ok(!JSON.stringify(audits).includes("c2VjcmV0"));
      });
    },
  );

  it(
    "forwards a chunked request body with its framing, even on a GET",
    { timeout: TEST_TIMEOUT },
    async () => {
      for (const method of ["POST", "GET"]) {
        await withProxy({ decide }, async ({ proxyUrl, audits }) => {
          const result = await curl([
            "-x",
            proxyUrl,
            "-X",
            method,
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "hello body",
            `http://127.0.0.1:${upstream.port}/chunked`,
          ]);
          assert.equal(result.code, 0, result.stderr);
          const seen = upstream.seen.at(-1);
          assert.equal(seen?.method, method);
          assert.equal(seen.body, "hello body");
          await waitFor(() => audits.length === 1, "one audit entry");
          assert.equal(audits[0]?.bytes_up, "hello body".length);
        });
      }
    },
  );

  it(
    "denies an absolute-form request (curl) with 403, the rule header and a readable body",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide }, async ({ proxyUrl, audits }) => {
        const denied = await curl([
          "-i",
          "-x",
          proxyUrl,
          "http://blocked.example/secret/path?key=s3cret",
        ]);
        assert.equal(denied.code, 0, denied.stderr);
        assert.match(denied.stdout, /^HTTP\/1\.1 403 /);
        assert.match(denied.stdout, /\r\nx-bot-bottle-denied: deny:blocked\.example\r\n/i);
        assert.match(denied.stdout, /bot-bottle blocked GET blocked\.example:80\/secret\/path/);
        assert.match(denied.stdout, /deny list/);
        assert.match(
          denied.stdout,
          /ask the operator to allow it, for example `bottle policy allow <identity> blocked\.example`/,
        );
        assert.ok(!denied.stdout.includes("s3cret"));

        // Not on the allow list: the same upstream that serves allowed ports is never reached.
        const before = upstream.seen.length;
        const otherPort = await freePort();
        const notAllowed = await curl(["-i", "-x", proxyUrl, `http://127.0.0.1:${otherPort}/`]);
        assert.match(notAllowed.stdout, /^HTTP\/1\.1 403 /);
        assert.match(notAllowed.stdout, /x-bot-bottle-denied: default-deny/i);
        assert.equal(upstream.seen.length, before);

        await waitFor(() => audits.length === 2, "two audit entries");
        assert.deepEqual(
          audits.map((e) => [e.kind, e.verdict, e.rule, e.path, e.status]),
          [
            ["http", "deny", "deny:blocked.example", "/secret/path", 403],
            ["http", "deny", "default-deny", "/", 403],
          ],
        );
      });
    },
  );

  it(
    "opens an intercepted CONNECT carrying plain HTTP (curl --proxytunnel): the request and the tunnel are audited",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide }, async ({ proxyUrl, audits }) => {
        const before = upstream.seen.length;
        const result = await curl([
          "-p",
          "-x",
          proxyUrl,
          `http://127.0.0.1:${upstream.port}/tunnel?x=1`,
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /"url":"\/tunnel\?x=1"/);
        assert.equal(upstream.seen.length, before + 1);

        await waitFor(() => audits.length === 2, "the request's and the tunnel's audit entries");
        const inner = audits[0];
        assert.ok(inner);
        assert.deepEqual(
          [inner.kind, inner.method, inner.path, inner.status],
          ["http", "GET", "/tunnel", 200],
        );
        const entry = audits[1];
        assert.ok(entry);
        assert.equal(entry.kind, "connect");
        assert.equal(entry.method, "CONNECT");
        assert.equal(entry.host, "127.0.0.1");
        assert.equal(entry.port, upstream.port);
        assert.equal(entry.path, null);
        assert.equal(entry.verdict, "allow");
        assert.equal(entry.rule, "allow:127.0.0.1");
        assert.equal(entry.status, 200);
        assert.ok((entry.bytes_up ?? 0) > 0);
        assert.ok((entry.bytes_down ?? 0) > 0);
        assert.equal(typeof entry.duration_ms, "number");
      });
    },
  );

  it(
    "with supervise on, a denied CONNECT names request_egress, not the operator's command",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide, supervise: true }, async ({ port }) => {
        const response = await raw(
          port,
          "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n",
        );
        assert.match(response, /^HTTP\/1\.1 403 Forbidden\r\n/);
        assert.match(response, /`request_egress` tool \(host: "evil\.test", ports: \[443\]/);
        assert.match(response, /`wait_for_decision`/);
        assert.doesNotMatch(response, /bottle policy allow/);
      });
    },
  );

  it("answers a denied CONNECT with 403 and closes", { timeout: TEST_TIMEOUT }, async () => {
    await withProxy({ decide }, async ({ port, audits }) => {
      const response = await raw(
        port,
        "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n",
      );
      assert.match(response, /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.match(response, /\r\nX-Bot-Bottle-Denied: default-deny\r\n/);
      assert.match(response, /bot-bottle blocked CONNECT to evil\.test:443/);
      assert.match(response, /evil\.test is not in the bottle's allow list/);
      assert.match(response, /`bottle policy allow <identity> evil\.test`/);
      assert.deepEqual(
        audits.map((e) => [e.kind, e.host, e.port, e.path, e.verdict, e.rule, e.status]),
        [["connect", "evil.test", 443, null, "deny", "default-deny", 403]],
      );

      const curlDenied = await curl([
        "-p",
        "-x",
        `http://127.0.0.1:${port}`,
        "http://blocked.example/",
      ]);
      assert.notEqual(curlDenied.code, 0);
      assert.match(curlDenied.stderr, /403/);
    });
  });

  it(
    "refuses a malformed CONNECT target and an origin-form request with 400",
    { timeout: TEST_TIMEOUT },
    async () => {
      let calls = 0;
      const counting = (request: EgressRequest): EgressDecision => {
        calls += 1;
        return decide(request);
      };
      await withProxy({ decide: counting }, async ({ port, audits }) => {
        const badTarget = await raw(port, "CONNECT user@127.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert.match(badTarget, /^HTTP\/1\.1 400 /);
        const origin = await raw(
          port,
          "GET /some/path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        );
        assert.match(origin, /^HTTP\/1\.1 400 /);
        assert.match(origin, /this is a forward proxy/);
        const https = await raw(
          port,
          "GET https://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        );
        assert.match(https, /^HTTP\/1\.1 400 /);
        assert.match(https, /use CONNECT for https/);
        assert.equal(calls, 0);
        assert.deepEqual(
          audits.map((e) => [e.verdict, e.rule, e.status]),
          [
            ["deny", "invalid-request", 400],
            ["deny", "invalid-request", 400],
            ["deny", "invalid-request", 400],
          ],
        );
      });
    },
  );

  it(
    "sets Host to the judged authority, whatever Host the client sent",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide }, async ({ port }) => {
        const response = await raw(
          port,
          `GET http://127.0.0.1:${upstream.port}/fronted HTTP/1.1\r\nHost: blocked.example\r\nConnection: close\r\n\r\n`,
        );
        assert.match(response, /^HTTP\/1\.1 200 /);
        const seen = upstream.seen.at(-1);
        assert.equal(seen?.url, "/fronted");
        assert.equal(seen.headers.host, `127.0.0.1:${upstream.port}`);
      });
    },
  );

  it(
    "dials the address the name resolved to, once checked",
    { timeout: TEST_TIMEOUT },
    async () => {
      const dialled: string[] = [];
      const dial = (host: string, port: number): net.Socket => {
        dialled.push(`${host}:${port}`);
        return net.connect(
          host === "127.0.0.1" && port === 80 ? upstream.port : echo.port,
          "127.0.0.1",
        );
      };
      const resolve = (host: string): Promise<string[]> =>
        Promise.resolve(host === "upstream.test" ? ["127.0.0.1"] : []);
      await withProxy({ decide, dial, resolve }, async ({ proxyUrl, port, audits }) => {
        const result = await curl(["-x", proxyUrl, "http://Upstream.TEST./via-dial"]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /"url":"\/via-dial"/);
        const { socket, head } = await openTunnel(port, "UPSTREAM.test.:443");
        assert.match(head, /^HTTP\/1\.1 200 Connection Established\r\n\r\n$/);
        assert.equal(await echoThrough(socket, "ping"), "ping");
        socket.end();
        await closedWithin(socket, "the tunnel to close");
        assert.deepEqual(dialled, ["127.0.0.1:80", "127.0.0.1:443"]);
        await waitFor(() => audits.length === 2, "two audit entries");
        assert.deepEqual(
          audits.map((e) => [e.kind, e.host, e.port, e.verdict]),
          [
            ["http", "upstream.test", 80, "allow"],
            ["connect", "upstream.test", 443, "allow"],
          ],
        );
      });
    },
  );

  it(
    "answers 502 when the dialled socket closes before connecting",
    { timeout: TEST_TIMEOUT },
    async () => {
      const dial = (): net.Socket => {
        const socket = new net.Socket();
        setImmediate(() => socket.destroy());
        return socket;
      };
      await withProxy({ decide, dial }, async ({ port, audits }) => {
        const response = await raw(
          port,
          `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
        assert.match(response, /^HTTP\/1\.1 502 /);
        await waitFor(() => audits.length === 1, "the audit entry");
        assert.deepEqual(
          audits.map((e) => [e.status, e.error]),
          [[502, "the upstream closed before connecting"]],
        );
      });
    },
  );

  it(
    "denies when the decide callback throws or answers nonsense (fail closed)",
    { timeout: TEST_TIMEOUT },
    async () => {
      const before = upstream.seen.length;
      const throwing = (): EgressDecision => {
        throw new Error("boom");
      };
      await withProxy({ decide: throwing }, async ({ port, audits }) => {
        const tunnel = await raw(
          port,
          `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
        assert.match(tunnel, /^HTTP\/1\.1 403 /);
        assert.match(tunnel, /X-Bot-Bottle-Denied: policy-error/);
        assert.match(tunnel, /policy error/);
        const get = await raw(
          port,
          `GET http://127.0.0.1:${upstream.port}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        );
        assert.match(get, /^HTTP\/1\.1 403 /);
        assert.match(get, /x-bot-bottle-denied: policy-error/i);
        assert.deepEqual(
          audits.map((e) => [e.verdict, e.rule, e.reason.startsWith("policy error")]),
          [
            ["deny", "policy-error", true],
            ["deny", "policy-error", true],
          ],
        );
      });
      const nonsense = (() => ({ verdict: "maybe", rule: "x", reason: "?" })) as unknown as (
        request: EgressRequest,
      ) => EgressDecision;
      const nothing = (() => null) as unknown as (request: EgressRequest) => EgressDecision;
      for (const odd of [nonsense, nothing]) {
        await withProxy({ decide: odd }, async ({ port }) => {
          const get = await raw(
            port,
            `GET http://127.0.0.1:${upstream.port}/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
          );
          assert.match(get, /^HTTP\/1\.1 403 /);
        });
      }
      assert.equal(upstream.seen.length, before);
    },
  );

  it(
    "answers 502 when the upstream refuses, for requests and tunnels, and audits it",
    { timeout: TEST_TIMEOUT },
    async () => {
      const closedPort = await freePort();
      const allowAll = (request: EgressRequest): EgressDecision =>
        decideEgress(
          { allow: [rule("127.0.0.1", [request.port], { tls: "passthrough" })], deny: [] },
          request,
        );
      await withProxy({ decide: allowAll }, async ({ proxyUrl, port, audits }) => {
        const result = await curl(["-i", "-x", proxyUrl, `http://127.0.0.1:${closedPort}/gone`]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^HTTP\/1\.1 502 /);
        assert.match(
          result.stdout,
          new RegExp(`could not reach 127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\)`),
        );

        const tunnel = await raw(
          port,
          `CONNECT 127.0.0.1:${closedPort} HTTP/1.1\r\nHost: x\r\n\r\n`,
        );
        assert.match(tunnel, /^HTTP\/1\.1 502 /);
        assert.match(tunnel, /ECONNREFUSED/);

        await waitFor(() => audits.length === 2, "two audit entries");
        assert.deepEqual(
          audits.map((e) => [e.kind, e.verdict, e.status, e.error]),
          [
            ["http", "allow", 502, "ECONNREFUSED"],
            ["connect", "allow", 502, "ECONNREFUSED"],
          ],
        );
      });
    },
  );

  it(
    "survives garbage, resets and dropped tunnels, and serves afterwards",
    { timeout: TEST_TIMEOUT },
    async () => {
      await withProxy({ decide }, async ({ proxyUrl, port }) => {
        const garbage = await raw(
          port,
          Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
        );
        assert.ok(garbage === "" || garbage.startsWith("HTTP/1.1 400"), garbage);
        const header = await raw(port, "GET http://127.0.0.1/ HTTP/1.1\r\nBad Header\r\n\r\n");
        assert.match(header, /^HTTP\/1\.1 400 /);

        // Reset in the middle of a request line.
        const half = net.connect(port, "127.0.0.1");
        half.on("error", () => undefined);
        await withTimeout(new Promise((resolve) => half.once("connect", resolve)), WAIT, "connect");
        half.write(`GET http://127.0.0.1:${upstream.port}/ HT`);
        half.resetAndDestroy();

        // Reset inside an established tunnel.
        const { socket: tunnel } = await openTunnel(port, `127.0.0.1:${echo.port}`);
        assert.equal(await echoThrough(tunnel, "before reset"), "before reset");
        const echoSocket = echo.sockets.at(-1);
        assert.ok(echoSocket);
        tunnel.resetAndDestroy();
        await closedWithin(echoSocket, "the upstream side of the reset tunnel to close");

        // The upstream resets a tunnel.
        const second = await openTunnel(port, `127.0.0.1:${echo.port}`);
        assert.equal(await echoThrough(second.socket, "x"), "x");
        echo.sockets.at(-1)?.resetAndDestroy();
        await closedWithin(second.socket, "the client side of an upstream reset to close");

        const after = await curl([
          "-x",
          proxyUrl,
          `http://127.0.0.1:${upstream.port}/still-serving`,
        ]);
        assert.equal(after.code, 0, after.stderr);
        assert.match(after.stdout, /"url":"\/still-serving"/);
      });
    },
  );

  it("stop() tears down open tunnels and audits them", { timeout: TEST_TIMEOUT }, async () => {
    const audits: AuditEntry[] = [];
    const proxy = new EgressProxy({ decide, audit: (entry) => audits.push(entry) });
    await proxy.listen({ host: "127.0.0.1", port: 0 });
    const proxyPort = proxy.address();
    const { socket, head } = await openTunnel(proxyPort, `127.0.0.1:${echo.port}`);
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.equal(await echoThrough(socket, "hello"), "hello");
    const upstreamSide = echo.sockets.at(-1);
    assert.ok(upstreamSide);
    // A keep-alive client connection that is idle must not hold stop() either.
    const idle = net.connect(proxyPort, "127.0.0.1");
    idle.on("error", () => undefined);
    await withTimeout(
      new Promise((resolve) => idle.once("connect", resolve)),
      WAIT,
      "idle connect",
    );

    await withTimeout(proxy.stop(), WAIT, "proxy.stop()");
    await closedWithin(socket, "the client side of the tunnel to close");
    await closedWithin(upstreamSide, "the upstream side of the tunnel to close");
    await closedWithin(idle, "the idle client to close");
    await waitFor(() => audits.length === 1, "the tunnel's audit entry");
    const entry = audits[0];
    assert.ok(entry);
    assert.equal(entry.kind, "connect");
    assert.equal(entry.bytes_up, "hello".length);
    const afterStop = await withTimeout(
      new Promise<string>((resolve) => {
        const probe = net.connect(proxyPort, "127.0.0.1");
        probe.on("connect", () => {
          probe.destroy();
          resolve("connected");
        });
        probe.on("error", (error: NodeJS.ErrnoException) => {
          resolve(error.code ?? "error");
        });
      }),
      WAIT,
      "a connection attempt after stop()",
    );
    assert.equal(afterStop, "ECONNREFUSED");
  });

  it(
    "serves on a unix socket: replaces a stale one, mode 0666, refuses a non-socket file",
    { timeout: TEST_TIMEOUT },
    async () => {
      const socketPath = path.join(tmp, "egress.sock");
      // A socket left behind by a process that was killed.
      const killed = spawn(process.execPath, [
        "-e",
        `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`,
      ]);
      await withTimeout(
        new Promise((resolve) => killed.once("exit", resolve)),
        WAIT,
        "stale socket",
      );
      assert.ok(fs.lstatSync(socketPath).isSocket());

      const audits: AuditEntry[] = [];
      const proxy = new EgressProxy({ decide, audit: (entry) => audits.push(entry) });
      await proxy.listen({ path: socketPath });
      try {
        assert.equal(fs.statSync(socketPath).mode & 0o777, 0o666);
        assert.throws(() => proxy.address(), /not listening on TCP/);
        const body = await withTimeout(
          new Promise<string>((resolve, reject) => {
            const req = http.request({
              socketPath,
              method: "GET",
              path: `http://127.0.0.1:${upstream.port}/over-unix`,
              headers: { host: `127.0.0.1:${upstream.port}` },
            });
            req.on("error", reject);
            req.on("response", (res) => {
              const chunks: Buffer[] = [];
              res.on("data", (chunk: Buffer) => chunks.push(chunk));
              res.on("end", () => {
                resolve(Buffer.concat(chunks).toString());
              });
            });
            req.end();
          }),
          WAIT,
          "request over the unix socket",
        );
        assert.match(body, /"url":"\/over-unix"/);
      } finally {
        await withTimeout(proxy.stop(), WAIT, "proxy.stop()");
      }

      const notSocket = path.join(tmp, "not-a-socket");
      fs.writeFileSync(notSocket, "keep me");
      const other = new EgressProxy({ decide, audit: () => undefined });
      await assert.rejects(other.listen({ path: notSocket }), /not a socket/);
      assert.equal(fs.readFileSync(notSocket, "utf8"), "keep me");
    },
  );

  it(
    "writes the audit as JSON lines through AuditLog, paths without query",
    { timeout: TEST_TIMEOUT },
    async () => {
      const file = path.join(tmp, "state", "audit", "egress.jsonl");
      const log = new AuditLog(file);
      await withProxy(
        {
          decide,
          audit: (entry) => {
            log.write(entry);
          },
        },
        async ({ proxyUrl }) => {
          await curl(["-x", proxyUrl, `http://127.0.0.1:${upstream.port}/a?token=s3cret`]);
          await curl(["-x", proxyUrl, "http://blocked.example/b?token=s3cret"]);
        },
      );
      log.write({
        time: new Date().toISOString(),
        kind: "http",
        method: "GET",
        host: "direct.test",
        port: 80,
        path: "/c?token=s3cret#frag",
        verdict: "deny",
        rule: "default-deny",
        reason: "test",
      });
      await withTimeout(log.close(), WAIT, "log.close()");
      log.write({
        ...(JSON.parse(fs.readFileSync(file, "utf8").split("\n")[0] ?? "") as AuditEntry),
        host: "after-close",
      });

      const text = fs.readFileSync(file, "utf8");
      assert.ok(!text.includes("s3cret"));
      assert.ok(!text.includes("after-close"));
      const lines = text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as AuditEntry);
      assert.deepEqual(
        lines.map((e) => [e.host, e.path, e.verdict]),
        [
          ["127.0.0.1", "/a", "allow"],
          ["blocked.example", "/b", "deny"],
          ["direct.test", "/c", "deny"],
        ],
      );
      assert.ok(lines.every((e) => !Number.isNaN(Date.parse(e.time))));

      // Appends, never truncates.
      const again = new AuditLog(file);
      again.write({ ...lines[2], host: "appended.test" });
      await again.close();
      assert.equal(fs.readFileSync(file, "utf8").trimEnd().split("\n").length, 4);
    },
  );
});
