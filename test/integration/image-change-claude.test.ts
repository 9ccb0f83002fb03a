/**
 * The real Claude Code across an image change, against the scripted Messages API stand-in: a
 * first turn in the bottle (its Bash tool finds no jq), the image change is asked for and approved
 * with --restart, then `claude --continue` on the new image: the stand-in receives the earlier turn
 * with the new one, and jq runs in the bottle.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { docker, dockerSandbox, startDetached } from "../helpers/docker.js";
import type { FakeModel } from "../helpers/fake-model.js";
import { fakeModelCa, startFakeModel } from "../helpers/fake-model.js";
import { askForImageChange } from "../helpers/supervise-mcp.js";

const TOKEN = "sk-ant-api03-IMAGE-CHANGE-TOKEN-FAKE-0123456789abcdef";
const FIRST_PROMPT = "Remember the word TANGERINE-4, then check whether jq is installed.";
const JQ = "RUN apt-get update && apt-get install -y --no-install-recommends jq";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
`;

function toolResults(body: unknown): string {
  return JSON.stringify(body);
}

describe("Claude Code across an image change", { timeout: 1_800_000 }, () => {
  it("continues the conversation on the new image after an approved restart", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-image-claude-"));
    const tls = await fakeModelCa(tmp);
    const box = dockerSandbox(manifest);
    box.env["BOT_BOTTLE_UPSTREAM_CA"] = tls.caFile;
    box.env["ANTHROPIC_API_KEY"] = TOKEN;
    const identity = await startDetached(box, "coder");
    const network = `bot-bottle-${identity}-net`;
    let fake: FakeModel = await startFakeModel(network, tls, {
      token: TOKEN,
      command: "command -v jq || echo NO-JQ-HERE",
      final: "jq is missing; I asked for it",
    });
    let layeredTag = "";
    try {
      const first = await cliProcess(
        ["exec", identity, "--", "claude", "-p", FIRST_PROMPT, "--allowedTools", "Bash"],
        box,
        {},
        180_000,
      );
      assert.equal(first.code, 0, first.stderr);
      assert.ok(
        (await fake.requests()).some((r) => toolResults(r.body).includes("NO-JQ-HERE")),
        "the first turn's Bash tool found no jq",
      );

      const asked = await askForImageChange(box, identity, JQ, "jq to read JSON");
      await fake.remove();
      const approve = await cliProcess(
        ["approve", asked.request_id, "--yes", "--restart"],
        box,
        {},
        900_000,
      );
      assert.equal(approve.code, 0, approve.stderr);
      const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
      layeredTag = info.Config.Image;
      assert.match(layeredTag, /^bot-bottle\/agent-layered:/);

      // The bottle's network was made again: the stand-in joins it again.
      fake = await startFakeModel(network, tls, {
        token: TOKEN,
        command: "jq --version",
        final: "jq works now",
      });
      const next = await cliProcess(
        [
          "exec",
          identity,
          "--",
          "claude",
          "-p",
          "--continue",
          "What was the word? Run jq.",
          "--allowedTools",
          "Bash",
        ],
        box,
        {},
        180_000,
      );
      assert.equal(next.code, 0, next.stderr);
      const requests = await fake.requests();
      assert.ok(
        requests.some((r) => {
          const body = toolResults(r.body);
          return body.includes("TANGERINE-4") && body.includes("What was the word? Run jq.");
        }),
        "the stand-in received the earlier turn with the new one",
      );
      // (The stand-in runs a tool once per conversation, so jq is checked by exec here.)
      const jq = await cliProcess(["exec", identity, "--", "jq", "--version"], box);
      assert.equal(jq.code, 0, jq.stderr);
    } finally {
      await fake.remove().catch(() => undefined);
      await cliProcess(["stop", identity], box);
      if (layeredTag !== "")
        await docker
          .getImage(layeredTag)
          .remove({ force: true })
          .catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
