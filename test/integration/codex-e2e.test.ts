/**
 * End to end: the real Codex CLI in a real bottle (`codex exec`), against a scripted stand-in of
 * OpenAI's Responses API that runs in a container of the test's own on the bottle's network
 * (HTTPS with a test CA the sidecar is told to trust). The stand-in checks that the real key
 * arrives, and scripts a turn in which the model has Codex run a shell command that dumps its
 * environment and config files and tries a host the bottle does not allow. The command's output,
 * as the stand-in receives it, must hold no real key and show the denial; the key must be nowhere
 * in the agent container.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { docker, dockerSandbox, execAs, execAsRoot, startDetached } from "../helpers/docker.js";
import type { RecordedRequest } from "../helpers/fake-model.js";
import { fakeModelCa, startFakeModel } from "../helpers/fake-model.js";

const TOKEN = "sk-proj-REAL-KEY-but-FAKE-for-tests-0123456789abcdef";
const FINAL = "SCRIPTED-FINAL-ANSWER-43";
const COMMAND =
  "env; cat ~/.codex/config.toml ~/.codex/auth.json ~/.npmrc 2>/dev/null; curl -s https://not-allowed.test";

/**
 * A model whose tools Codex sends as plain functions (its newest default sends them as a
 * JavaScript "code mode" namespace, which a scripted stand-in cannot drive), and no git
 * repository in the fresh workspace.
 */
const EXEC_ARGS = ["-m", "gpt-5-codex", "--skip-git-repo-check"];

const manifest = `agents:
  coder:
    bottle: box
    provider: codex
    prompt: "You are the bot-bottle end-to-end test agent."
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    egress:
      allow: []
    credentials:
      - {name: openai, path: /openai, upstream: "https://api.fake.test/v1", token: {env: OPENAI_API_KEY}, role: openai-base-url}
`;

/** The output of the shell call, as Codex sent it back to the model. */
function toolOutput(request: RecordedRequest): string | undefined {
  const item = request.body?.input?.find((i) => i.type === "function_call_output");
  return item === undefined ? undefined : JSON.stringify(item.output);
}

describe("Codex end to end in a bottle", () => {
  it("runs a scripted shell turn: the real key reaches the API only, and the egress denial shows", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-codex-e2e-"));
    const tls = await fakeModelCa(tmp);
    const box = dockerSandbox(manifest);
    box.env["BOT_BOTTLE_UPSTREAM_CA"] = tls.caFile;
    box.env["OPENAI_API_KEY"] = TOKEN;
    const identity = await startDetached(box, "coder");
    const fake = await startFakeModel(
      `bot-bottle-${identity}-net`,
      tls,
      { token: TOKEN, command: COMMAND, final: FINAL },
      "responses",
    );
    try {
      const result = await cliProcess(
        ["exec", identity, "--", "codex", "exec", ...EXEC_ARGS, "Run the check."],
        box,
        {},
        240_000,
      );
      const log = await fake.log();
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}\n${log}`);
      assert.match(result.stdout, new RegExp(FINAL));

      const requests = await fake.requests();
      const turns = requests.filter((r) => r.url.endsWith("/v1/responses"));
      assert.ok(turns.length >= 2, log);
      assert.ok(
        requests.every((r) => r.headers["authorization"] === `Bearer ${TOKEN}`),
        "the real key arrived on every call",
      );
      // The prompt, from ~/.codex/AGENTS.md, is part of what the model is sent.
      assert.match(JSON.stringify(turns[0]?.body), /bot-bottle end-to-end test agent/);
      const withOutput = turns.find((r) => toolOutput(r) !== undefined);
      assert.ok(withOutput, "the command's output came back");
      const output = toolOutput(withOutput) ?? "";
      assert.ok(!output.includes(TOKEN), "the command's output holds no real key");
      assert.match(output, /OPENAI_API_KEY=placeholder-held-by-bot-bottle/);
      assert.match(output, /base_url = \\"http:\/\/127\.0\.0\.1:3129\/openai\\"/);
      assert.match(output, /sandbox_mode = \\"danger-full-access\\"/);
      // curl's exit code 56: the proxy refused the CONNECT (the audit log below says why).
      assert.match(output, /exited with code 56/);

      const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
      assert.match(egress.stdout, /"host":"not-allowed\.test".*"verdict":"deny"/);
      // Codex itself asked for nothing else (no update check, analytics or sign-in).
      const hosts = egress.stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => (JSON.parse(line) as { host?: string }).host);
      assert.deepEqual([...new Set(hosts)], ["not-allowed.test"], egress.stdout);

      // The key is nowhere in the agent container: process environments, files, image history.
      const agent = `bot-bottle-${identity}-agent`;
      const environ = await execAsRoot(
        agent,
        "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'",
      );
      assert.ok(environ.includes("OPENAI_API_KEY"), "the environments were read");
      assert.ok(!environ.includes(TOKEN));
      // Root there has no capabilities: the agent's own ~/.codex (0700) is searched as the agent.
      const search = `grep -rlsF '${TOKEN}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; echo searched`;
      assert.equal((await execAsRoot(agent, search)).trim(), "searched");
      assert.equal((await execAs(agent, "1500", search)).trim(), "searched");
      const sessions = await execAs(
        agent,
        "1500",
        "find /home/agent/.codex/sessions -name '*.jsonl'",
      );
      assert.match(sessions, /rollout-.*\.jsonl/, "the transcript (searched above) is there");
      const info = await docker.getContainer(agent).inspect();
      const history: unknown = await docker.getImage(info.Image).history();
      assert.ok(!JSON.stringify(history).includes(TOKEN));
      assert.ok(!JSON.stringify(info.Config.Env).includes(TOKEN));
    } finally {
      await fake.remove();
      await cliProcess(["stop", identity], box);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
