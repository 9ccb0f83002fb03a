/**
 * A real sidecar with supervise on: its fourth gate serves MCP on supervise.sock, its egress
 * denials name request_egress, an expired rule matches nothing, and a `once` rule lets exactly one
 * request through, is removed from the rules in force and from policy.json, and is counted in
 * health. Local upstream on loopback; fake tokens only.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseSavedRules } from "../../src/core/contract/saved-rules.js";
import type { Sidecar } from "../../src/sidecar/sidecar.js";
import type { LoopbackUpstream } from "../helpers/sidecar-harness.js";
import {
  loopbackRule as rule,
  socketRequest as request,
  startLoopbackUpstream,
  startTestSidecar,
  testSidecarConfig,
} from "../helpers/sidecar-harness.js";

const TOKEN = ["fake", "supervise", "token", "0123456789abcdef"].join("-");

describe("a sidecar with supervise on", () => {
  let root: string;
  let sidecar: Sidecar;
  let upstream: LoopbackUpstream;
  let port: number;
  let egress: string;
  let control: string;
  const policyFile = () => path.join(root, "policy.json");

  before(async () => {
    upstream = await startLoopbackUpstream((_req, res) => res.end("upstream says hi\n"));
    port = upstream.port;
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sc-sup-"));
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
    ({ sidecar, egress, control } = await startTestSidecar(
      testSidecarConfig("box-sup", root, path.join(root, "s")),
      { api: TOKEN },
    ));
  });

  after(async () => {
    await sidecar.stop();
    await upstream.close();
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
