/**
 * End to end: the real Claude Code in a supervised bottle asks for a host and gets it. The
 * scripted Messages API has the model call the supervise tools (registered at provisioning, no
 * `--allowedTools` for them: the bottle's settings allow them) in this order: recent_denials,
 * request_egress for a local upstream, wait_for_decision; while it waits, the test approves with
 * the CLI; then the model's next tool call (curl with Bash) reaches the host. The audit shows the
 * request, the decision and the allowed request.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { startUpstream, waitFor } from "../helpers/docker.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";

const TOKEN = "sk-ant-api03-REAL-TOKEN-but-FAKE-for-tests-0123456789";
const FINAL = "SCRIPTED-SUPERVISE-DONE-7";
const HOST = "local-upstream.test";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
    prompt: "You are the bot-bottle supervise test agent."
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    egress:
      allow: []
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
    supervise: true
`;

const STEPS = [
  {
    tool: "Bash",
    input: {
      command: `curl -sS -o /dev/null -w 'first:%{http_code}' http://${HOST}/`,
      description: "try",
    },
  },
  { tool: "mcp__supervise__recent_denials", input: {} },
  {
    tool: "mcp__supervise__request_egress",
    input: { host: HOST, methods: ["GET"], reason: "fetch the test fixture" },
  },
  {
    tool: "mcp__supervise__wait_for_decision",
    input: { request_id: "{{request_id}}", timeout_s: 45 },
  },
  { tool: "Bash", input: { command: `curl -sS http://${HOST}/fixture`, description: "fetch" } },
];

interface Message {
  body: { messages?: { role: string; content: unknown }[] } | null;
}

function toolResultsOf(request: Message): string {
  return JSON.stringify(request.body?.messages ?? []);
}

/** The tool results of a request's conversation, in order, each as text. */
function toolResultList(request: Message): string[] {
  const out: string[] = [];
  for (const message of request.body?.messages ?? []) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content as { type?: string; content?: unknown }[]) {
      if (block.type === "tool_result") out.push(JSON.stringify(block.content));
    }
  }
  return out;
}

describe("Claude Code asks, the operator approves", () => {
  it("recent_denials, request_egress, wait_for_decision, approval by the CLI, then the host answers", async () => {
    const bottle = await startFakeModelBottle(manifest, {
      tmpPrefix: "bb-supervise-e2e-",
      env: { ANTHROPIC_API_KEY: TOKEN },
      script: { token: TOKEN, command: "true", final: FINAL, steps: STEPS },
    });
    const { box, identity, fake } = bottle;
    const upstream = await startUpstream(bottle.network, [HOST]);
    try {
      const session = cliProcess(
        ["exec", identity, "--", "claude", "-p", "Fetch the fixture.", "--allowedTools", "Bash"],
        box,
        {},
        300_000,
      );
      // The model has the request's id once a request to the API carries request_egress's result.
      const requestId = await waitFor(
        "the request_egress result",
        async () => {
          const ids = (await fake.requests()).map(
            (r) => /r-[0-9a-f]{6,12}/.exec(toolResultsOf(r))?.[0],
          );
          return ids.find((id) => id !== undefined);
        },
        180_000,
      );
      // Give Claude Code the time to call wait_for_decision, then decide while it waits.
      await new Promise((r) => setTimeout(r, 3000));
      const approve = await cliProcess(["approve", requestId, "--internal", "--yes"], box);
      assert.equal(approve.code, 0, approve.stderr);
      assert.match(approve.stderr, new RegExp(`host +${HOST.replace(/\./g, "\\.")}`));

      const result = await session;
      const log = await fake.log();
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}\n${log}`);
      assert.match(result.stdout, new RegExp(FINAL));

      const last = (await fake.requests()).filter((r) => r.url.includes("/v1/messages")).at(-1);
      const results = toolResultList(last ?? { body: null });
      assert.equal(results.length, STEPS.length, log);
      assert.match(results[0] ?? "", /first:403/, "refused before");
      assert.match(results[1] ?? "", /local-upstream\.test/, "recent_denials names the host");
      assert.match(results[2] ?? "", /pending/, "request_egress filed it");
      assert.match(results[3] ?? "", /approved/, "wait_for_decision returned the approval");
      assert.match(
        results[4] ?? "",
        /upstream saw GET local-upstream\.test\/fixture/,
        "curl reached the host",
      );

      const dir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
      assert.ok(fs.existsSync(path.join(dir, "requests", `${requestId}.json`)), "the request");
      const decisions = fs.readFileSync(path.join(dir, "audit", "decisions.jsonl"), "utf8");
      assert.match(decisions, new RegExp(`"request_id":"${requestId}".*"status":"approved"`));
      const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
      assert.match(
        egress.stdout,
        /"host":"local-upstream\.test".*"path":"\/fixture".*"verdict":"allow"/,
      );
    } finally {
      await upstream.remove();
      await fake.remove();
      await bottle.stop();
    }
  });
});
