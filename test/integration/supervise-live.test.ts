/**
 * Supervise end to end from inside a real bottle: the agent's side is curl speaking MCP to
 * 127.0.0.1:3131, the operator's side is the real CLI. A request is approved and the next request
 * through the egress proxy passes; `--once` lets one through and not the second; `--for 2s`
 * expires; a denial's reason comes back through wait_for_decision; a request pending when the
 * bottle stops survives, and an approval given while stopped is in force after resume.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import { bottleExec, dockerSandbox, startDetached, startUpstream } from "../helpers/docker.js";
import { mcpCall } from "../helpers/mcp-curl.js";

const MANIFEST = `agents:
  sh:
    bottle: box
    provider: shell
bottles:
  box:
    resources: {memory: 512m, cpus: 1, pids: 256}
    egress:
      allow: []
    supervise: true
`;

const HOSTS = ["asked.test", "once.test", "timed.test", "refused.test", "later.test"];

function status(box: Sandbox, identity: string, host: string): Promise<string> {
  return bottleExec(box, identity, `curl -sS -o /dev/null -w '%{http_code}' http://${host}/x`).then(
    (r) => r.stdout,
  );
}

async function ask(box: Sandbox, identity: string, host: string): Promise<string> {
  const filed = await mcpCall(box, identity, "request_egress", {
    host,
    reason: `the tests need ${host}`,
  });
  assert.equal(filed.isError, false, filed.text);
  assert.equal(filed.value["status"], "pending");
  const id = filed.value["request_id"];
  assert.ok(typeof id === "string" && /^r-[0-9a-f]+$/.test(id), filed.text);
  return id;
}

async function approve(box: Sandbox, id: string, ...flags: string[]): Promise<string> {
  const run = await cliProcess(["approve", id, "--internal", "--yes", ...flags], box);
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
  return run.stderr + run.stdout;
}

describe("supervise: the agent asks, the operator decides", () => {
  it("request, approve (bottle, once, for 2s), deny, and a decision taken while stopped", async () => {
    const box = dockerSandbox(MANIFEST);
    const identity = await startDetached(box);
    const net = `bot-bottle-${identity}-net`;
    let upstream = await startUpstream(net, HOSTS);
    try {
      // Refused first; the denial shows in recent_denials.
      assert.equal(await status(box, identity, "asked.test"), "403");
      const denials = await mcpCall(box, identity, "recent_denials", {});
      assert.match(denials.text, /asked\.test/);

      // Approve for the bottle: the next request passes; wait_for_decision says approved.
      const asked = await ask(box, identity, "asked.test");
      const listed = await cliProcess(["requests", "--json"], box);
      assert.match(listed.stdout, new RegExp(asked));
      const shown = await approve(box, asked);
      assert.match(shown, /! internal-address:/);
      assert.match(shown, /in force in the running bottle now/);
      assert.equal(await status(box, identity, "asked.test"), "200");
      const decided = await mcpCall(box, identity, "wait_for_decision", {
        request_id: asked,
        timeout_s: 5,
      });
      assert.equal(decided.value["status"], "approved", decided.text);

      // --once: one request through, not the second.
      const once = await ask(box, identity, "once.test");
      await approve(box, once, "--once");
      assert.equal(await status(box, identity, "once.test"), "200");
      assert.equal(await status(box, identity, "once.test"), "403");

      // --for 2s: a loop inside the bottle probes every 100 ms (a CLI round trip takes about as
      // long as the grant): refused, then allowed for about 2 s, then refused again.
      const timed = await ask(box, identity, "timed.test");
      const probing = bottleExec(
        box,
        identity,
        `for i in $(seq 1 60); do echo "$(date +%s%3N) $(curl -sS -o /dev/null -w '%{http_code}' http://timed.test/x)"; sleep 0.1; done`,
      );
      await new Promise((r) => setTimeout(r, 1500));
      await approve(box, timed, "--for", "2s");
      const probes = (await probing).stdout
        .trim()
        .split("\n")
        .map((line) => line.split(" ").map(Number) as [number, number]);
      const codes = probes.map(([, code]) => code).join(" ");
      assert.match(codes, /^(403 )+(200 )+(403 ?)+$/, codes);
      const allowed = probes.filter(([, code]) => code === 200).map(([at]) => at);
      const span = Math.max(...allowed) - Math.min(...allowed);
      assert.ok(span <= 2200, `allowed for ${span} ms`);

      // Deny: the reason comes back to the agent.
      const refused = await ask(box, identity, "refused.test");
      const denied = await cliProcess(["deny", refused, "--reason", "use the mirror"], box);
      assert.equal(denied.code, 0, denied.stderr);
      const answer = await mcpCall(box, identity, "wait_for_decision", {
        request_id: refused,
        timeout_s: 5,
      });
      assert.equal(answer.value["status"], "denied", answer.text);
      assert.match(answer.text, /use the mirror/);
      assert.equal(await status(box, identity, "refused.test"), "403");

      // Pending across stop; approved while stopped; in force after resume.
      const later = await ask(box, identity, "later.test");
      assert.equal((await cliProcess(["stop", identity], box)).code, 0);
      await upstream.remove();
      const pending = await cliProcess(["requests", identity], box);
      assert.match(pending.stdout, new RegExp(`${later} .*stopped.*pending.*later\\.test`));
      const offline = await approve(box, later);
      assert.match(offline, /in force from the bottle's next resume/);
      assert.equal((await cliProcess(["resume", identity, "--detach"], box, {}, 600_000)).code, 0);
      upstream = await startUpstream(net, HOSTS);
      assert.equal(await status(box, identity, "later.test"), "200");
      assert.equal(await status(box, identity, "asked.test"), "200", "the bottle-scope grant kept");
      assert.equal(
        await status(box, identity, "once.test"),
        "403",
        "the spent once rule stays spent",
      );

      // The audit: every decision, and the allowed requests.
      const dir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
      const decisions = fs
        .readFileSync(path.join(dir, "audit", "decisions.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { request_id: string; status: string; effect: string });
      assert.deepEqual(
        decisions.map((d) => [d.request_id, d.status, d.effect]),
        [
          [asked, "approved", "live"],
          [once, "approved", "live"],
          [timed, "approved", "live"],
          [refused, "denied", "none"],
          [later, "approved", "on-resume"],
        ],
      );
      const egress = await cliProcess(["logs", identity, "--egress"], box);
      assert.match(egress.stdout, /ALLOW\s+GET\s+asked\.test:80\/x\s+200/);
      const policy = await cliProcess(["policy", "list", identity], box);
      assert.match(
        policy.stdout,
        new RegExp(`asked\\.test  internal  \\(request ${asked}, by cli:`),
      );
    } finally {
      await upstream.remove();
      await cliProcess(["stop", identity], box);
    }
  });
});
