/**
 * A real Sidecar run in the test's own process (no Docker), and what its unit tests talk to it
 * with: HTTP over its unix sockets and a local upstream on loopback. Fake tokens only.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { ensureBottleCa } from "../../src/core/tls/bottle-ca.js";
import type { SidecarConfig } from "../../src/sidecar/sidecar-config.js";
import { Sidecar } from "../../src/sidecar/sidecar.js";

/** A granted rule (as a supervise request makes one) for the loopback upstream on `port`. */
export function loopbackRule(port: number, more: Partial<PlanEgressRule> = {}): PlanEgressRule {
  return {
    host: "127.0.0.1",
    ports: [port],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: true,
    source: "request",
    ...PLAN_RULE_PROVENANCE,
    ...more,
  };
}

export interface SocketReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTP request over the unix socket `socketPath`, on a connection of its own. */
export function socketRequest(
  socketPath: string,
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<SocketReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

export interface LoopbackUpstream {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (a free port) answering with `handler`. */
export async function startLoopbackUpstream(
  handler: http.RequestListener,
): Promise<LoopbackUpstream> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/**
 * A sidecar's configuration for a test: state in `stateDir`, gate sockets in `socketDir`; no
 * manifest rules, no credentials, no git, DLP blocking, supervise on, unless `more` says otherwise.
 */
export function testSidecarConfig(
  identity: string,
  stateDir: string,
  socketDir: string,
  more: Partial<SidecarConfig> = {},
): SidecarConfig {
  return {
    identity,
    socket_dir: socketDir,
    state_dir: stateDir,
    egress: { allow: [], deny: [] },
    dlp: "block",
    credentials: [],
    git: [],
    upstream_ca: [],
    supervise: true,
    ...more,
  };
}

export interface TestSidecar {
  sidecar: Sidecar;
  /** The egress gate's socket. */
  egress: string;
  /** The control socket the host talks to. */
  control: string;
}

/**
 * Makes the bottle CA in the state folder, starts a real Sidecar with `config`, and, when
 * `credentials` is given, hands it its secrets (`{credentials, git: {}}`); throws if the sidecar
 * refuses them.
 */
export async function startTestSidecar(
  config: SidecarConfig,
  credentials?: Record<string, string>,
): Promise<TestSidecar> {
  fs.mkdirSync(config.socket_dir, { recursive: true });
  fs.mkdirSync(path.join(config.state_dir, "control"), { recursive: true });
  await ensureBottleCa(config.state_dir, config.identity);
  const sidecar = new Sidecar(config);
  await sidecar.start();
  const control = path.join(config.state_dir, "control", "control.sock");
  if (credentials !== undefined) {
    const handed = await socketRequest(
      control,
      "PUT",
      "/secrets",
      JSON.stringify({ credentials, git: {} }),
    );
    if (handed.status !== 200) {
      await sidecar.stop();
      throw new Error(`the sidecar refused its secrets: ${handed.status} ${handed.body}`);
    }
  }
  return { sidecar, egress: path.join(config.socket_dir, "egress.sock"), control };
}
