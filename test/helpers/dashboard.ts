/**
 * Dashboard test helpers: a state home seeded with bottles (metadata, rules, audit lines and
 * requests filed through the request store, as the sidecar files them), a real dashboard server
 * on 127.0.0.1, and raw HTTP requests with full control of Host, Origin and cookies.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { HostEnv } from "../../src/core/host/paths.js";
import type { RequestSpec } from "../../src/core/requests/request.js";
import { fileRequest, requestsDir } from "../../src/core/requests/request-store.js";
import type { BottleMetadata } from "../../src/core/state/bottle-state.js";
import { bottlePaths, writeJsonAtomic } from "../../src/core/state/bottle-state.js";
import { writeRules } from "../../src/core/state/policy-store.js";
import { DashboardServer } from "../../src/dashboard/dashboard-server.js";
import { operatorContext } from "../../src/operator/operator-context.js";

export function tempHost(): HostEnv {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-test-"));
  return { env: { BOT_BOTTLE_HOME: path.join(root, "home") }, home: root, cwd: root };
}

/** A stopped bottle's state: what `bottle stop` leaves (no engine objects needed). */
export function seedBottle(host: HostEnv, identity: string, status: "stopped" = "stopped"): void {
  const paths = bottlePaths(host, identity);
  fs.mkdirSync(paths.auditDir, { recursive: true });
  const metadata: BottleMetadata = {
    identity,
    agent: identity.split("-")[0] ?? identity,
    bottle: "box",
    provider: "claude",
    backend: "docker",
    runtime: "runsc",
    cwd: null,
    manifest: "/nowhere/bottle.yaml",
    started_at: new Date(Date.now() - 3_600_000).toISOString(),
    stopped_at: new Date().toISOString(),
    images: { agent: "a", sidecar: "s" },
    status,
    detached: true,
  };
  writeJsonAtomic(paths.metadata, metadata);
  writeRules(paths, {
    allow: [
      {
        host: "registry.npmjs.org",
        ports: [443, 80],
        methods: null,
        paths: null,
        tls: "intercept",
        internal: false,
        source: "manifest",
        request_id: null,
        added_by: null,
        added_at: null,
        expires_at: null,
        once: false,
      },
    ],
    deny: [],
  });
}

export function egressLine(host: string, verdict: "allow" | "deny", at = new Date()): string {
  return JSON.stringify({
    time: at.toISOString(),
    kind: "https",
    method: "GET",
    host,
    port: 443,
    path: "/v1/things",
    verdict,
    rule: verdict === "deny" ? "default-deny" : host,
    reason: verdict === "deny" ? "no allow rule names this host" : "allowed",
    status: verdict === "deny" ? 403 : 200,
    duration_ms: 12,
  });
}

export function appendAudit(host: HostEnv, identity: string, log: string, lines: string[]): void {
  const file = path.join(bottlePaths(host, identity).auditDir, `${log}.jsonl`);
  fs.appendFileSync(file, lines.map((l) => `${l}\n`).join(""));
}

export function fileEgressRequest(host: HostEnv, identity: string, target: string): string {
  const spec: RequestSpec = {
    kind: "egress",
    egress: { host: target, ports: null, methods: ["GET"], paths: null },
  };
  const dir = requestsDir(bottlePaths(host, identity).dir);
  return fileRequest(dir, identity, spec, "to read the docs").request.id;
}

export interface Running {
  server: DashboardServer;
  url: string;
  port: number;
  token: string;
  logs: string[];
}

export async function startDashboard(host: HostEnv): Promise<Running> {
  const logs: string[] = [];
  const server = new DashboardServer({
    op: operatorContext(host),
    port: 0,
    by: "dashboard:tester",
    log: (line) => logs.push(line),
    pollMs: 100,
  });
  const { url, port } = await server.start();
  return { server, url, port, token: new URL(url).searchParams.get("token") ?? "", logs };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly the headers given (Host included). */
export function raw(
  port: number,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: pathAndQuery,
        headers: { host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The session cookie the page gets for the token (`name=value`). */
export async function sessionFor(running: Running): Promise<string> {
  const res = await raw(running.port, "GET", `/?token=${running.token}`, {});
  const cookie = res.headers["set-cookie"]?.[0] ?? "";
  return cookie.split(";")[0] ?? "";
}
