/**
 * End to end: the real Claude Code in a real bottle, in print mode, against a scripted stand-in of
 * the Messages API that runs in a container of the test's own on the bottle's network (HTTPS with
 * a test CA the sidecar is told to trust). The stand-in checks that the real token arrives, and
 * scripts a turn in which the model has the agent run a Bash tool that dumps its environment and
 * credential files and tries a host the bottle does not allow. The tool result sent back must hold
 * no real token and show the denial; the token must be nowhere in the agent container.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { assertSecretsNowhereInAgent } from "../helpers/agent-secrets.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";

const TOKEN = "sk-ant-api03-REAL-TOKEN-but-FAKE-for-tests-0123456789";
const FINAL = "SCRIPTED-FINAL-ANSWER-42";
const COMMAND = "env; cat ~/.claude* ~/.npmrc 2>/dev/null; curl -s https://not-allowed.test";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
    prompt: "You are the bot-bottle end-to-end test agent."
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    egress:
      allow: []
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
`;

describe("Claude Code end to end in a bottle", () => {
  it("runs a scripted tool turn: the real token reaches the API only, and the egress denial shows", async () => {
    const bottle = await startFakeModelBottle(manifest, {
      tmpPrefix: "bb-claude-e2e-",
      env: { ANTHROPIC_API_KEY: TOKEN },
      script: { token: TOKEN, command: COMMAND, final: FINAL },
    });
    const { box, identity, fake } = bottle;
    try {
      const result = await cliProcess(
        ["exec", identity, "--", "claude", "-p", "Run the check.", "--allowedTools", "Bash"],
        box,
        {},
        240_000,
      );
      const log = await fake.log();
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}\n${log}`);
      assert.match(result.stdout, new RegExp(FINAL));

      const requests = await fake.requests();
      const messages = requests.filter((r) => r.url.includes("/v1/messages"));
      assert.ok(messages.length >= 2, log);
      assert.ok(
        messages.every((r) => r.headers["x-api-key"] === TOKEN),
        "the real token arrived",
      );
      const withResult = messages.find((r) => JSON.stringify(r.body).includes("tool_result"));
      assert.ok(withResult, "a tool result came back");
      const toolResult = JSON.stringify(withResult.body?.messages?.at(-1));
      assert.ok(!toolResult.includes(TOKEN), "the tool result holds no real token");
      assert.match(toolResult, /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:3129\/anthropic/);
      assert.match(toolResult, /placeholder-held-by-bot-bottle/);
      // curl's exit code 56: the proxy refused the CONNECT (the audit log below says why).
      assert.match(toolResult, /"content":"Exit code 56\\n/);
      assert.match(toolResult, /"is_error":true/);

      const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
      assert.match(egress.stdout, /"host":"not-allowed\.test".*"verdict":"deny"/);

      // The token is nowhere in the agent container: process environments, files, image history.
      await assertSecretsNowhereInAgent(identity, [TOKEN], "ANTHROPIC_BASE_URL");
    } finally {
      await fake.remove();
      await bottle.stop();
    }
  });
});
