/**
 * A real sidecar with supervise on: its fourth gate serves MCP on supervise.sock, its egress
 * denials name request_egress, an expired rule matches nothing, and a `once` rule lets exactly one
 * request through, is removed from the rules in force and from policy.json, and is counted in
 * health. Local upstream on loopback; fake tokens only.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { parseSavedRules } from "../../src/core/contract/saved-rules.js";
import { ensureBottleCa } from "../../src/core/tls/bottle-ca.js";
import type { SidecarConfig } from "../../src/sidecar/sidecar-config.js";
import { Sidecar } from "../../src/sidecar/sidecar.js";

const TOKEN = ["fake", "supervise", "token", "0123456789abcdef"].join("-");

function request(
  socketPath: string,
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

function rule(port: number, extra: Partial<PlanEgressRule>): PlanEgressRule {
  return {
    host: "127.0.0.1",
    ports: [port],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: true,
    source: "request",
    ...PLAN_RULE_PROVENANCE,
    ...extra,
  };
}

describe("a sidecar with supervise on", () => {
  let root: string;
  let sidecar: Sidecar;
  let upstream: http.Server;
  let port: number;
  let egress: string;
  let control: string;
  const policyFile = () => path.join(root, "policy.json");

  before(async () => {
    upstream = http.createServer((_req, res) => res.end("upstream says hi\n"));
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    port = (upstream.address() as AddressInfo).port;
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sc-sup-"));
    fs.mkdirSync(path.join(root, "s"));
    fs.mkdirSync(path.join(root, "control"));
    await ensureBottleCa(root, "box-sup");
    const rules = {
      allow: [
        rule(port, { once: true, request_id: "r-0000aa" }),
        rule(1, {
          expires_at: "2001-01-01T00:00:00.000Z",
          ports: [port + 1 > 65535 ? 1 : port + 1],
        }),
      ],
      deny: [],
    };
    fs.writeFileSync(policyFile(), JSON.stringify(rules));
    const config: SidecarConfig = {
      identity: "box-sup",
      socket_dir: path.join(root, "s"),
      state_dir: root,
      egress: { allow: [], deny: [] },
      dlp: "block",
      credentials: [],
      git: [],
      upstream_ca: [],
      supervise: true,
    };
    sidecar = new Sidecar(config);
    await sidecar.start();
    egress = path.join(root, "s", "egress.sock");
    control = path.join(root, "control", "control.sock");
    const handed = await request(
      control,
      "PUT",
      "/secrets",
      JSON.stringify({ credentials: { api: TOKEN }, git: {} }),
    );
    assert.equal(handed.status, 200, handed.body);
  });

  after(async () => {
    await sidecar.stop();
    await new Promise((resolve) => upstream.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("serves MCP on supervise.sock and reports the gate in health", async () => {
    const listed = await request(
      path.join(root, "s", "supervise.sock"),
      "POST",
      "/mcp",
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
      { "content-type": "application/json", accept: "application/json, text/event-stream" },
    );
    assert.equal(listed.status, 200, listed.body);
    assert.match(listed.body, /wait_for_decision/);
    const health = JSON.parse((await request(control, "GET", "/health")).body) as {
      gates: string[];
    };
    assert.ok(health.gates.includes("supervise"));
  });

  it("a once rule lets one request through, then is gone from the rules, policy.json and health", async () => {
    const url = `http://127.0.0.1:${port}/x`;
    const first = await request(egress, "GET", url);
    assert.equal(first.status, 200, first.body);
    const second = await request(egress, "GET", url);
    assert.equal(second.status, 403, second.body);
    assert.match(second.body, /request_egress/);
    assert.doesNotMatch(second.body, /bottle policy allow/);
    const saved = parseSavedRules(fs.readFileSync(policyFile(), "utf8"), "policy.json");
    assert.equal(
      saved.allow.some((r) => r.once),
      false,
    );
    assert.equal(saved.allow.length, 1, "the other rule stays");
    const live = JSON.parse((await request(control, "GET", "/policy")).body) as {
      allow: unknown[];
    };
    assert.equal(live.allow.length, 1);
    const health = JSON.parse((await request(control, "GET", "/health")).body) as {
      once_consumed: number;
    };
    assert.equal(health.once_consumed, 1);
  });

  it("an expired rule matches nothing, and the denial says it expired", async () => {
    const other = port + 1 > 65535 ? 1 : port + 1;
    const denied = await request(egress, "GET", `http://127.0.0.1:${other}/x`);
    assert.equal(denied.status, 403);
    assert.match(denied.body, /expired/);
  });
});
