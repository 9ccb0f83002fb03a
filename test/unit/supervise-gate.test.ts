/**
 * The supervise gate as a real MCP server, driven by the official SDK's client over loopback, and
 * by raw HTTP over its unix socket for what a well-behaved client never sends. The test plays the
 * host where a decision is needed (writeDecision: the host's file), never through the gate.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { EgressRules } from "../../src/core/policy/policy-change.js";
import {
  fileRequest,
  listRequests,
  readRequest,
  writeDecision,
} from "../../src/core/requests/request-store.js";
import { MAX_PENDING } from "../../src/core/requests/request.js";
import type { SuperviseAuditEntry } from "../../src/sidecar/supervise/supervise-gate.js";
import { SuperviseGate } from "../../src/sidecar/supervise/supervise-gate.js";
import { socketRequest } from "../helpers/sidecar-harness.js";

const rules: EgressRules = {
  allow: [
    {
      host: "registry.npmjs.org",
      ports: [443],
      methods: ["GET"],
      paths: null,
      tls: "intercept",
      internal: false,
      source: "manifest",
      ...PLAN_RULE_PROVENANCE,
    },
    {
      host: "api.example.test",
      ports: [443],
      methods: null,
      paths: null,
      tls: "intercept",
      internal: false,
      source: "request",
      ...PLAN_RULE_PROVENANCE,
      request_id: "r-000001",
      expires_at: "2000-01-01T00:00:00.000Z",
    },
  ],
  deny: ["pastebin.com"],
};

function text(result: unknown): string {
  const content = (result as CallToolResult).content[0];
  return content?.type === "text" ? content.text : "";
}

function data(result: unknown): Record<string, unknown> {
  const r = result as CallToolResult;
  assert.notEqual(r.isError, true, text(result));
  return JSON.parse(text(result)) as Record<string, unknown>;
}

function assertToolError(result: unknown, pattern: RegExp): void {
  assert.equal((result as CallToolResult).isError, true, text(result));
  assert.match(text(result), pattern);
}

/** A raw request to the gate's unix socket, as an MCP client sends it. */
function raw(socketPath: string, method: string, urlPath: string, body?: string) {
  return socketRequest(socketPath, method, urlPath, body, {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  });
}

describe("supervise gate (MCP over the SDK's client)", () => {
  let tmp: string;
  let requests: string;
  let auditFile: string;
  let gate: SuperviseGate;
  let socketGate: SuperviseGate;
  let socketPath: string;
  let client: Client;
  const audit: SuperviseAuditEntry[] = [];

  const call = (name: string, args: Record<string, unknown> = {}) =>
    client.callTool({ name, arguments: args });

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-supervise-"));
    requests = path.join(tmp, "requests");
    auditFile = path.join(tmp, "audit", "egress.jsonl");
    fs.mkdirSync(path.dirname(auditFile), { recursive: true });
    const options = {
      identity: "dev-t1",
      requestsDir: requests,
      egressAuditFile: auditFile,
      rules: () => rules,
      gitEntries: ["app"],
      audit: (entry: SuperviseAuditEntry) => audit.push(entry),
      now: () => new Date(),
    };
    gate = new SuperviseGate(options);
    await gate.listen({ host: "127.0.0.1", port: 0 });
    socketGate = new SuperviseGate(options);
    socketPath = path.join(tmp, "supervise.sock");
    await socketGate.listen({ path: socketPath });
    client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${gate.address()}/mcp`)),
    );
  });

  after(async () => {
    await client.close();
    await gate.stop();
    await socketGate.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("lists the seven tools, each with a description and described arguments", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      "current_image_recipe",
      "list_egress_rules",
      "recent_denials",
      "request_egress",
      "request_image_change",
      "request_push_branch",
      "wait_for_decision",
    ]);
    for (const tool of tools) {
      assert.ok((tool.description ?? "").length > 40, tool.name);
      const props = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
      for (const [name, prop] of Object.entries(props)) {
        assert.ok((prop.description ?? "").length > 10, `${tool.name}.${name} is described`);
      }
    }
    const egress = tools.find((t) => t.name === "request_egress");
    assert.deepEqual(egress?.inputSchema.required, ["host", "reason"]);
  });

  it("list_egress_rules shows the rules in force, where each came from and its expiry", async () => {
    const shown = data(await call("list_egress_rules"));
    const allow = shown.allow as Record<string, unknown>[];
    assert.equal(allow[0]?.host, "registry.npmjs.org");
    assert.equal(allow[0].source, "manifest");
    assert.deepEqual(allow[0].methods, ["GET"]);
    assert.equal(allow[1]?.request_id, "r-000001");
    assert.equal(allow[1].expired, true);
    assert.deepEqual(shown.deny, ["pastebin.com"]);
  });

  it("recent_denials returns the latest denials without query strings, naming request_egress", async () => {
    const line = (host: string, verdict: string, p: string | null) =>
      JSON.stringify({
        time: "2026-12-03T10:00:00.000Z",
        kind: "https",
        method: "GET",
        host,
        port: 443,
        path: p,
        verdict,
        rule: verdict === "deny" ? "default-deny" : "allow:x",
        reason: "not in the allow list",
      });
    fs.writeFileSync(
      auditFile,
      [
        line("old.example.test", "deny", "/a"),
        "not json",
        line("registry.npmjs.org", "allow", "/b"),
        line("new.example.test", "deny", "/v1/items?token=abc"),
        "",
      ].join("\n"),
    );
    const { denials } = data(await call("recent_denials", { limit: 5 })) as {
      denials: Record<string, unknown>[];
    };
    assert.deepEqual(
      denials.map((d) => d.host),
      ["new.example.test", "old.example.test"],
    );
    assert.equal(denials[0]?.path, "/v1/items");
    assert.equal(denials[0].port, 443);
    assert.equal(denials[0].rule, "default-deny");
    assert.match(String(denials[0].advice), /request_egress/);
  });

  it("request_egress files a pending request at once, and a repeat merges into it", async () => {
    const first = data(
      await call("request_egress", {
        host: "Files.Example.test",
        methods: ["get"],
        reason: "download the fixture",
      }),
    );
    assert.equal(first.status, "pending");
    const id = String(first.request_id);
    const stored = readRequest(requests, id);
    assert.equal(stored?.request.spec.kind, "egress");
    assert.deepEqual(stored.request.spec, {
      kind: "egress",
      egress: { host: "files.example.test", ports: null, methods: ["GET"], paths: null },
    });
    const again = data(
      await call("request_egress", {
        host: "files.example.test",
        methods: ["POST"],
        reason: "and upload",
      }),
    );
    assert.equal(again.request_id, id);
    assert.equal(again.merged, true);
    const merged = readRequest(requests, id);
    assert.equal(merged?.request.hits, 2);
    assert.equal(merged.request.revision, 2);
  });

  it("refuses a bad host, bad arguments, an unknown tool, a too-long reason: clear tool errors", async () => {
    assertToolError(
      await call("request_egress", { host: "https://x.test/path", reason: "r" }),
      /host .*Name a host/,
    );
    assertToolError(await call("request_egress", { host: "x.test" }), /reason/);
    assertToolError(
      await call("request_egress", { host: "x.test", reason: "r".repeat(501) }),
      /at most 500 characters/,
    );
    assertToolError(
      await call("request_egress", { host: "x.test", reason: "r", ports: [70000] }),
      /ports/,
    );
    assertToolError(
      await call("request_egress", { host: "x.test", reason: "r", approve: true }),
      /approve|Unrecognized/i,
    );
    assertToolError(await call("approve_request", { request_id: "r-000001" }), /not found/);
    assertToolError(await call("wait_for_decision", { request_id: "../../x" }), /request id/);
    assertToolError(
      await call("wait_for_decision", { request_id: "r-abcdef", timeout_s: 51 }),
      /timeout_s/,
    );
    assertToolError(
      await call("wait_for_decision", { request_id: "r-abcdef", timeout_s: 1 }),
      /No request r-abcdef/,
    );
  });

  it("request_push_branch files a pattern for an entry; refuses a bad pattern or unknown entry", async () => {
    const filed = data(
      await call("request_push_branch", { pattern: "feature/*", entry: "app", reason: "PR" }),
    );
    assert.equal(readRequest(requests, String(filed.request_id))?.request.spec.kind, "push-branch");
    assertToolError(await call("request_push_branch", { pattern: "a..b", reason: "r" }), /pattern/);
    assertToolError(
      await call("request_push_branch", { pattern: "x/*", entry: "other", reason: "r" }),
      /No git entry "other".*app/,
    );
  });

  it("wait_for_decision returns pending at its timeout, never a denial", async () => {
    const { request_id: id } = data(
      await call("request_egress", { host: "slow.example.test", reason: "r" }),
    );
    const started = Date.now();
    const waited = data(await call("wait_for_decision", { request_id: id, timeout_s: 0.5 }));
    const took = Date.now() - started;
    assert.equal(waited.status, "pending");
    assert.match(String(waited.note), /call wait_for_decision again/i);
    assert.ok(took >= 450 && took < 3_000, `took ${took} ms`);
  });

  it("wait_for_decision returns the operator's approval as soon as it is written, with scope and note", async () => {
    const { request_id: id } = data(
      await call("request_egress", { host: "ok.example.test", reason: "r" }),
    );
    const waiting = call("wait_for_decision", { request_id: id, timeout_s: 20 });
    await new Promise((r) => setTimeout(r, 300));
    const stored = readRequest(requests, String(id));
    assert.ok(stored !== undefined);
    const started = Date.now();
    writeDecision(requests, {
      request_id: String(id),
      revision: stored.request.revision,
      status: "approved",
      scope: "for",
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      granted: stored.request.spec,
      note: "for the afternoon",
      decided_at: new Date().toISOString(),
      by: "cli:test",
    });
    const answer = data(await waiting);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(answer.status, "approved");
    assert.equal(answer.scope, "for");
    assert.equal(answer.note, "for the afternoon");
  });

  it("wait_for_decision returns a denial's reason, and an expired grant as expired", async () => {
    const decide = (host: string, status: "approved" | "denied", expires: string | null) => {
      return call("request_egress", { host, reason: "r" }).then((r) => {
        const id = String(data(r).request_id);
        const stored = readRequest(requests, id);
        assert.ok(stored !== undefined);
        writeDecision(requests, {
          request_id: id,
          revision: stored.request.revision,
          status,
          scope: status === "approved" ? "for" : null,
          expires_at: expires,
          granted: status === "approved" ? stored.request.spec : null,
          note: status === "denied" ? "use the mirror instead" : null,
          decided_at: new Date().toISOString(),
          by: "cli:test",
        });
        return id;
      });
    };
    const denied = await decide("no.example.test", "denied", null);
    const answer = data(await call("wait_for_decision", { request_id: denied, timeout_s: 1 }));
    assert.equal(answer.status, "denied");
    assert.equal(answer.note, "use the mirror instead");
    const old = await decide("old.example.test", "approved", "2001-01-01T00:00:00.000Z");
    const expired = data(await call("wait_for_decision", { request_id: old, timeout_s: 1 }));
    assert.equal(expired.status, "expired");
  });

  it(`refuses a flood past ${MAX_PENDING} pending with a clear error; repeats still merge, nothing is lost`, async () => {
    let refused: unknown;
    for (let i = 0; i < MAX_PENDING + 5; i += 1) {
      const result = await call("request_egress", { host: `flood${i}.example.test`, reason: "r" });
      if ((result as CallToolResult).isError === true) {
        refused = result;
        break;
      }
    }
    assertToolError(refused, new RegExp(`${MAX_PENDING} pending requests.*wait_for_decision`));
    const pending = listRequests(requests).filter((s) => s.decision === undefined);
    assert.equal(pending.length, MAX_PENDING);
    const repeat = data(await call("request_egress", { host: "flood0.example.test", reason: "r" }));
    assert.equal(repeat.merged, true);
    assert.ok(audit.some((e) => e.tool === "request_egress" && e.verdict === "refused"));
  });

  it("over its unix socket: malformed JSON-RPC, wrong methods and paths get clear errors; it keeps serving", async () => {
    const notJson = await raw(socketPath, "POST", "/mcp", "{");
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /-32700/);
    const notRpc = await raw(socketPath, "POST", "/mcp", JSON.stringify({ hello: 1 }));
    assert.ok(notRpc.status >= 400 && notRpc.status < 500, notRpc.body);
    const get = await raw(socketPath, "GET", "/mcp");
    assert.equal(get.status, 405);
    const other = await raw(socketPath, "POST", "/approve", "{}");
    assert.equal(other.status, 404);
    const huge = await raw(socketPath, "POST", "/mcp", `"${"x".repeat(2 * 1024 * 1024)}"`).catch(
      () => ({ status: 413, body: "" }),
    );
    assert.equal(huge.status, 413);
    const list = await raw(
      socketPath,
      "POST",
      "/mcp",
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    );
    assert.equal(list.status, 200, list.body);
    assert.match(list.body, /request_egress/);
  });

  it("stop() ends a wait in progress at once (pending), instead of holding the process", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-supervise-stop-"));
    const entries: SuperviseAuditEntry[] = [];
    const own = new SuperviseGate({
      identity: "dev-t2",
      requestsDir: dir,
      egressAuditFile: path.join(dir, "none.jsonl"),
      rules: () => rules,
      gitEntries: [],
      audit: (entry) => entries.push(entry),
      now: () => new Date(),
    });
    await own.listen({ host: "127.0.0.1", port: 0 });
    const spec = {
      kind: "egress" as const,
      egress: { host: "a.test", ports: null, methods: null, paths: null },
    };
    const id = fileRequest(dir, "dev-t2", spec, "r").request.id;
    const req = http.request({
      host: "127.0.0.1",
      port: own.address(),
      method: "POST",
      path: "/mcp",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
    });
    req.on("error", () => undefined);
    req.end(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "wait_for_decision", arguments: { request_id: id, timeout_s: 40 } },
      }),
    );
    await new Promise((r) => setTimeout(r, 400));
    const started = Date.now();
    await own.stop();
    while (!entries.some((e) => e.tool === "wait_for_decision") && Date.now() - started < 3_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const waited = entries.find((e) => e.tool === "wait_for_decision");
    assert.equal(waited?.detail, "pending");
    assert.ok(Date.now() - started < 2_000, "the wait ended with the gate");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("writes no decision file and changes no rule, whatever it is called with", () => {
    const names = fs.readdirSync(requests);
    assert.ok(names.length > MAX_PENDING);
    assert.deepEqual(
      names.filter((n) => n.endsWith(".decision.json")).length,
      // Only the three the test itself wrote as the host.
      3,
    );
    assert.equal(rules.allow.length, 2);
  });
});

describe("supervise gate whose MCP code cannot load", () => {
  it("refuses every request with 503 and stops reporting itself as serving", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-supervise-noload-"));
    let loads = 0;
    const gate = new SuperviseGate({
      identity: "dev-t3",
      requestsDir: dir,
      egressAuditFile: path.join(dir, "none.jsonl"),
      rules: () => rules,
      gitEntries: [],
      audit: () => undefined,
      now: () => new Date(),
      loadExchange: () => {
        loads += 1;
        return Promise.reject(new Error("module missing"));
      },
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    try {
      assert.equal(gate.serving(), true, "serving while not yet loaded");
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
      for (let i = 0; i < 2; i++) {
        const answer = await fetch(`http://127.0.0.1:${gate.address()}/mcp`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body,
        });
        assert.equal(answer.status, 503);
        assert.match(await answer.text(), /did not load/);
      }
      assert.equal(gate.serving(), false);
      assert.equal(loads, 1, "a failed load is kept, not retried per request");
    } finally {
      await gate.stop();
    }
  });
});
