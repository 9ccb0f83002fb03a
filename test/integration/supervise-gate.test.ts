/**
 * The supervise gate from inside a real bottle (shell provider): `curl` speaking MCP to
 * 127.0.0.1:3131 files a request that appears in the host's state; the operator approves it once
 * with the CLI and exactly one request passes. And invariant 8: every socket the agent can reach
 * (egress, credentials, supervise, and the socket files themselves) is tried for anything that
 * could approve or change the policy; nothing does.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Sandbox } from "../helpers/cli.js";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  dockerSandbox,
  shellManifest,
  startDetached,
  startUpstream,
} from "../helpers/docker.js";

const MCP = "http://127.0.0.1:3131/mcp";

/** A curl line that POSTs one JSON-RPC message to the supervise gate, bypassing the proxy. */
function mcpCurl(message: unknown, url = MCP): string {
  const body = JSON.stringify(message).replace(/'/g, "'\\''");
  return `curl -sS --noproxy '*' -X POST ${url} -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' --data '${body}'`;
}

function toolCall(name: string, args: Record<string, unknown>, id = 1): unknown {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

interface ToolReply {
  result?: {
    isError?: boolean;
    structuredContent?: Record<string, unknown>;
    content: { text: string }[];
  };
  error?: { message: string };
}

function reply(stdout: string): ToolReply {
  return JSON.parse(stdout) as ToolReply;
}

describe("the supervise gate from inside a bottle", () => {
  let box: Sandbox;
  let identity: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let requestsDir: string;

  const run = async (command: string): Promise<string> => {
    const result = await bottleExec(box, identity, command);
    assert.equal(result.code, 0, `${command}\n${result.stderr}`);
    return result.stdout;
  };
  const policy = async (): Promise<string> => {
    const listed = await cliProcess(["policy", "list", identity, "--json"], box);
    assert.equal(listed.code, 0, listed.stderr);
    return listed.stdout;
  };

  before(async () => {
    box = dockerSandbox(shellManifest());
    identity = await startDetached(box);
    upstream = await startUpstream(`bot-bottle-${identity}-net`, ["other.test"]);
    requestsDir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity, "requests");
  });

  after(async () => {
    await upstream.remove();
    await cliProcess(["stop", identity], box);
  });

  it("a denial names request_egress; curl files a request that appears in the host's state", async () => {
    const denied = await run(`curl -sS http://${upstream.ip}/`);
    assert.match(denied, /`request_egress` tool/);
    const listed = reply(
      await run(mcpCurl({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })),
    );
    assert.match(JSON.stringify(listed), /wait_for_decision/);

    const denials = reply(await run(mcpCurl(toolCall("recent_denials", { limit: 5 }))));
    assert.match(
      JSON.stringify(denials.result?.structuredContent),
      new RegExp(upstream.ip.replace(/\./g, "\\.")),
    );

    const filed = reply(
      await run(
        mcpCurl(
          toolCall("request_egress", {
            host: upstream.ip,
            ports: [80],
            reason: "fetch the fixture",
          }),
        ),
      ),
    );
    const id = String(filed.result?.structuredContent?.request_id);
    assert.equal(filed.result?.structuredContent?.status, "pending");
    const file = path.join(requestsDir, `${id}.json`);
    assert.ok(fs.existsSync(file), `${file} exists on the host`);
    const stored = JSON.parse(fs.readFileSync(file, "utf8")) as {
      spec: { egress: { host: string } };
    };
    assert.equal(stored.spec.egress.host, upstream.ip);

    const waited = reply(
      await run(mcpCurl(toolCall("wait_for_decision", { request_id: id, timeout_s: 1 }))),
    );
    assert.equal(waited.result?.structuredContent?.status, "pending");
  });

  it("nothing the agent can reach approves or changes the policy", async () => {
    const before = await policy();
    const tries = [
      // The supervise gate: tools that do not exist, routes of the control API.
      mcpCurl(toolCall("approve", { request_id: "r-000000" })),
      mcpCurl(toolCall("set_policy", { allow: ["*"] })),
      mcpCurl({ jsonrpc: "2.0", id: 1, method: "policy/set", params: {} }),
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3131/policy -d '{"allow":[],"deny":[]}'`,
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3131/secrets -d '{}'`,
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3131/git/branches -d '{"branches":{"x":["*"]}}'`,
      `curl -sS --noproxy '*' -X POST http://127.0.0.1:3131/approve -d '{}'`,
      // The egress proxy in origin form, and as a proxy to the control API's routes.
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3128/policy -d '{"allow":[],"deny":[]}'`,
      `curl -sS -x http://127.0.0.1:3128 -X PUT http://localhost/policy -d '{}'`,
      // The credential proxy.
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3129/policy -d '{"allow":[],"deny":[]}'`,
      `curl -sS --noproxy '*' -X PUT http://127.0.0.1:3129/git/branches -d '{}'`,
      // Every socket file in the agent's socket folder, directly.
      `for s in /run/bot-bottle/*.sock; do curl -sS --unix-socket "$s" -X PUT http://x/policy -d '{"allow":[],"deny":[]}'; curl -sS --unix-socket "$s" -X PUT http://x/git/branches -d '{}'; done`,
    ];
    for (const command of tries) await bottleExec(box, identity, `${command} || true`);
    const sockets = (await run("ls /run/bot-bottle")).split(/\s+/).filter((n) => n !== "");
    assert.deepEqual(sockets.sort(), ["credentials.sock", "egress.sock", "supervise.sock"]);
    assert.equal((await bottleExec(box, identity, "ls /var/lib/bot-bottle")).code === 0, false);
    assert.equal(await policy(), before, "the policy is unchanged");
    const decisions = fs.readdirSync(requestsDir).filter((n) => n.endsWith(".decision.json"));
    assert.deepEqual(decisions, [], "no decision was written");
    assert.match(
      await run(`curl -sS -o /dev/null -w '%{http_code}' http://${upstream.ip}/`),
      /403/,
    );
  });

  it("after the operator approves --once, exactly one request passes and the wait says approved", async () => {
    const filed = reply(
      await run(
        mcpCurl(toolCall("request_egress", { host: upstream.ip, ports: [80], reason: "again" })),
      ),
    );
    const id = String(filed.result?.structuredContent?.request_id);
    const approved = await cliProcess(["approve", `${identity}/${id}`, "--once", "--yes"], box);
    assert.equal(approved.code, 0, approved.stderr);
    const waited = reply(
      await run(mcpCurl(toolCall("wait_for_decision", { request_id: id, timeout_s: 5 }))),
    );
    assert.equal(waited.result?.structuredContent?.status, "approved");
    assert.equal(waited.result.structuredContent.scope, "once");
    const code = `curl -sS -o /dev/null -w '%{http_code}' http://${upstream.ip}/`;
    assert.equal(await run(code), "200");
    assert.equal(await run(code), "403");
  });
});
