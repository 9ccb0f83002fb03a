/**
 * The real Claude Code across an image change, against the scripted Messages API stand-in. The
 * model's tools run in order: Bash finds no jq; `current_image_recipe`; `request_image_change`
 * for jq; `wait_for_decision`. While it waits, the test approves with --restart: the bottle is
 * rebuilt and restarted under it. Then `claude --continue` on the new image: the stand-in receives
 * the earlier turns with the new prompt, and the model's Bash tool runs jq.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { docker, waitFor } from "../helpers/docker.js";
import type { FakeModel } from "../helpers/fake-model.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";

// The token shares no run of 13 characters with any text the stand-in answers: the credential
// proxy cuts an answer that carries a piece of an own secret that long (FINAL once did).
const TOKEN = "sk-ant-api03-RECIPE-TEST-KEY-FAKE-0123456789abcdef";
const FIRST_PROMPT = "Remember the word TANGERINE-4, then make sure jq is installed.";
const NEXT_PROMPT = "What was the word? Run jq now.";
const JQ = "RUN apt-get update && apt-get install -y --no-install-recommends jq";
const FINAL = "SCRIPTED-IMAGE-CHANGE-DONE";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
    supervise: true
`;

/** One tool per step, chosen by how many tool results the conversation holds. */
const STEPS = [
  { tool: "Bash", input: { command: "command -v jq || echo NO-JQ-HERE", description: "check" } },
  { tool: "mcp__supervise__current_image_recipe", input: {} },
  {
    tool: "mcp__supervise__request_image_change",
    input: { dockerfile: JQ, reason: "jq to read JSON" },
  },
  {
    tool: "mcp__supervise__wait_for_decision",
    input: { request_id: "{{request_id}}", timeout_s: 45 },
  },
  // After the restart: wait_for_decision again (or this, if Claude Code closed the cut call).
  { tool: "Bash", input: { command: "jq --version", description: "use jq" } },
];

function text(body: unknown): string {
  return JSON.stringify(body);
}

describe("Claude Code across an image change", { timeout: 1_800_000 }, () => {
  it("asks for the change, is restarted on the new image while it waits, and continues", async () => {
    const bottle = await startFakeModelBottle(manifest, {
      tmpPrefix: "bb-image-claude-",
      env: { ANTHROPIC_API_KEY: TOKEN },
      script: { token: TOKEN, command: "true", final: FINAL, steps: STEPS },
    });
    const { box, identity } = bottle;
    let fake: FakeModel = bottle.fake;
    let layeredTag = "";
    try {
      const first = cliProcess(
        ["exec", identity, "--", "claude", "-p", FIRST_PROMPT, "--allowedTools", "Bash"],
        box,
        {},
        600_000,
      );
      const requestId = await waitFor(
        "the request_image_change result",
        async () => {
          const ids = (await fake.requests()).map(
            (r) => /r-[0-9a-f]{6,12}/.exec(text(r.body))?.[0],
          );
          return ids.find((id) => id !== undefined);
        },
        240_000,
      );
      const seen = text((await fake.requests()).at(-1)?.body);
      assert.match(seen, /NO-JQ-HERE/, "the first Bash call found no jq");
      assert.match(seen, /FROM bot-bottle\/agent-claude:/, "current_image_recipe answered");
      // Let Claude Code call wait_for_decision; then approve and restart while it waits.
      await new Promise((r) => setTimeout(r, 3000));
      await fake.remove();
      const approve = await cliProcess(
        ["approve", requestId, "--yes", "--restart"],
        box,
        {},
        900_000,
      );
      assert.equal(approve.code, 0, approve.stderr);
      await first; // cut by the restart
      const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
      layeredTag = info.Config.Image;
      assert.match(layeredTag, /^bot-bottle\/agent-layered:/);

      // The bottle's network was made again: the stand-in joins it again.
      fake = await bottle.startFake();
      const next = await cliProcess(
        [
          "exec",
          identity,
          "--",
          "claude",
          "-p",
          "--continue",
          NEXT_PROMPT,
          "--allowedTools",
          "Bash",
        ],
        box,
        {},
        300_000,
      );
      const log = await fake.log();
      assert.equal(next.code, 0, `${next.stderr}\n${log}`);
      assert.match(next.stdout, new RegExp(FINAL));
      const last = text(
        (await fake.requests()).filter((r) => r.url.includes("/v1/messages")).at(-1)?.body,
      );
      assert.match(last, /TANGERINE-4/, "the earlier turn came along");
      assert.ok(last.includes(NEXT_PROMPT), "with the new prompt");
      assert.match(last, /request_image_change/, "and the tool calls before the restart");
      assert.match(last, /jq-1\.\d/, "the model's Bash tool ran jq on the new image");
    } finally {
      await fake.remove().catch(() => undefined);
      await bottle.stop();
      if (layeredTag !== "")
        await docker
          .getImage(layeredTag)
          .remove({ force: true })
          .catch(() => undefined);
    }
  });
});
