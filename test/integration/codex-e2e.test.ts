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
import path from "node:path";
import { describe, it } from "node:test";
import type { Sandbox } from "../helpers/cli.js";
import { cliProcess } from "../helpers/cli.js";
import { assertSecretsNowhereInAgent } from "../helpers/agent-secrets.js";
import { execAs } from "../helpers/docker.js";
import type { RecordedRequest } from "../helpers/fake-model.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";

const KEY = "sk-proj-REAL-KEY-but-FAKE-for-tests-0123456789abcdef";
const FINAL = "SCRIPTED-FINAL-ANSWER-43";
const COMMAND =
  "env; cat ~/.codex/config.toml ~/.codex/auth.json ~/.npmrc 2>/dev/null; curl -s https://not-allowed.test";

/**
 * A model whose tools Codex sends as plain functions (its newest default sends them as a
 * JavaScript "code mode" namespace, which a scripted stand-in cannot drive), and no git
 * repository in the fresh workspace.
 */
const EXEC_ARGS = ["-m", "gpt-5-codex", "--skip-git-repo-check"];

function manifest(credential: string): string {
  return `agents:
  coder:
    bottle: box
    provider: codex
    prompt: "You are the bot-bottle end-to-end test agent."
    skills: [zebra-drawing]
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    egress:
      allow: []
    credentials:
      - {name: openai, path: /openai, upstream: "https://api.fake.test/v1", role: openai-base-url, ${credential}}
`;
}

/** A fake JWT with a ChatGPT account id in its claims, as `codex login` stores them. */
function fakeJwt(claims: Record<string, unknown>, signature: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.${signature}`;
}

const ACCOUNT = "acct-REAL-but-FAKE-7f3a";
const ACCESS = fakeJwt(
  { exp: 4102444800, "https://api.openai.com/auth": { chatgpt_account_id: ACCOUNT } },
  "REAL-ACCESS-SIGNATURE-but-FAKE-0123456789",
);
const REFRESH = "rt_REAL-REFRESH-but-FAKE-0123456789abcdef";
const ID_TOKEN = fakeJwt({ email: "op@example.test" }, "REAL-ID-SIGNATURE-but-FAKE-0123456789");

interface Login {
  /** The credential's token and inject, as the manifest writes them. */
  credential: string;
  /** Host environment and files the start reads. */
  setup(box: Sandbox, tmp: string): void;
  /** What the stand-in must receive as the bearer token. */
  bearer: string;
  /** Strings that must be nowhere in the bottle. */
  secrets: string[];
  /** What the command's output shows instead. */
  placeholder: RegExp;
  /** Hosts Codex itself asks the egress gate for with this login (refused). */
  ownHosts: string[];
}

/** The supervise gate's MCP tools. */
const SUPERVISE_TOOLS = [
  "list_egress_rules",
  "recent_denials",
  "request_egress",
  "request_push_branch",
  "wait_for_decision",
];

type Tool = { type?: string; name?: string; tools?: Tool[] };

/** Every tool's name, a namespace's tools as `<namespace><tool>`. */
function toolNames(tools: Tool[], prefix = ""): string[] {
  return tools.flatMap((tool) =>
    tool.tools === undefined
      ? [`${prefix}${tool.name ?? ""}`]
      : toolNames(tool.tools, `${prefix}${tool.name ?? ""}`),
  );
}

/** The output of the shell call, as Codex sent it back to the model. */
function toolOutput(request: RecordedRequest): string | undefined {
  const item = request.body?.input?.find((i) => i.type === "function_call_output");
  return item === undefined ? undefined : JSON.stringify(item.output);
}

/**
 * Starts a bottle with `login`, has the model run COMMAND through Codex, checks what came back
 * and that no secret of the login is in the bottle, and returns what the stand-in received.
 */
async function scriptedTurn(login: Login): Promise<RecordedRequest[]> {
  const bottle = await startFakeModelBottle(manifest(login.credential), {
    tmpPrefix: "bb-codex-e2e-",
    setup: (box, tmp) => {
      login.setup(box, tmp);
      // A skill on the host, copied to ~/.codex/skills, where Codex finds it.
      const skill = path.join(box.home, ".claude", "skills", "zebra-drawing");
      fs.mkdirSync(skill, { recursive: true });
      fs.writeFileSync(
        path.join(skill, "SKILL.md"),
        "---\nname: zebra-drawing\ndescription: Draws zebras in ASCII art (bot-bottle skill probe).\n---\n\nDraw a zebra.\n",
      );
    },
    script: { token: login.bearer, command: COMMAND, final: FINAL },
    api: "responses",
  });
  const { box, identity, fake } = bottle;
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
      requests.every((r) => r.headers["authorization"] === `Bearer ${login.bearer}`),
      "the real key arrived on every call",
    );
    // The supervise gate's tools, registered in ~/.codex/config.toml, are offered to the model.
    const offered = toolNames(turns[0]?.body?.tools ?? []);
    for (const tool of SUPERVISE_TOOLS) {
      assert.ok(
        offered.some((name) => name.includes("supervise") && name.endsWith(tool)),
        `${tool} is offered: ${offered.join(", ")}`,
      );
    }
    // The prompt, from ~/.codex/AGENTS.md, and the skill are part of what the model is sent.
    assert.match(JSON.stringify(turns[0]?.body), /bot-bottle end-to-end test agent/);
    assert.match(
      JSON.stringify(turns[0]?.body),
      /Draws zebras in ASCII art \(bot-bottle skill probe\)/,
    );
    const withOutput = turns.find((r) => toolOutput(r) !== undefined);
    assert.ok(withOutput, "the command's output came back");
    const output = toolOutput(withOutput) ?? "";
    for (const secret of login.secrets) {
      assert.ok(!output.includes(secret), "the command's output holds no real secret");
    }
    assert.match(output, login.placeholder);
    assert.match(output, /base_url = \\"http:\/\/127\.0\.0\.1:3129\/openai\\"/);
    assert.match(output, /sandbox_mode = \\"danger-full-access\\"/);
    // curl's exit code 56: the proxy refused the CONNECT (the audit log below says why).
    assert.match(output, /exited with code 56/);

    const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
    assert.match(egress.stdout, /"host":"not-allowed\.test".*"verdict":"deny"/);
    // Codex itself asked for nothing else (no update check, analytics, plugins), but what the
    // login makes it ask for, and all of it was refused.
    const entries = egress.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { host?: string; verdict?: string });
    const hosts = [...new Set(entries.map((e) => e.host))].sort();
    assert.deepEqual(hosts, [...login.ownHosts, "not-allowed.test"].sort(), egress.stdout);
    assert.ok(
      entries.every((e) => e.verdict === "deny"),
      egress.stdout,
    );

    // The key is nowhere in the agent container: process environments, files, image history.
    await assertSecretsNowhereInAgent(identity, login.secrets, "OPENAI_API_KEY");
    const sessions = await execAs(
      `bot-bottle-${identity}-agent`,
      "1500",
      "find /home/agent/.codex/sessions -name '*.jsonl'",
    );
    assert.match(sessions, /rollout-.*\.jsonl/, "the transcript (searched above) is there");
    return requests;
  } finally {
    await fake.remove();
    await bottle.stop();
  }
}

describe("Codex end to end in a bottle", () => {
  it("with an API key: the real key reaches the API only, and the egress denial shows", async () => {
    await scriptedTurn({
      credential: "token: {env: OPENAI_API_KEY}",
      setup: (box) => {
        box.env["OPENAI_API_KEY"] = KEY;
      },
      bearer: KEY,
      secrets: [KEY],
      placeholder: /OPENAI_API_KEY=placeholder-held-by-bot-bottle/,
      ownHosts: [],
    });
  });

  it("with a ChatGPT login: the access token and account reach the API only; the bottle holds placeholders", async () => {
    const requests = await scriptedTurn({
      credential: "token: {file: ./codex-auth.json}, inject: chatgpt",
      setup: (box) => {
        const auth = {
          auth_mode: "chatgpt",
          OPENAI_API_KEY: null,
          tokens: {
            id_token: ID_TOKEN,
            access_token: ACCESS,
            refresh_token: REFRESH,
            account_id: ACCOUNT,
          },
          last_refresh: new Date().toISOString(),
        };
        fs.writeFileSync(path.join(box.cwd, "codex-auth.json"), JSON.stringify(auth), {
          mode: 0o600,
        });
      },
      bearer: ACCESS,
      secrets: [ACCESS, ACCESS.split(".")[2] ?? ACCESS, REFRESH, ID_TOKEN, ACCOUNT],
      placeholder: /auth_mode.{0,8}chatgpt[\s\S]*refresh_token.{0,8}placeholder-held-by-bot-bottle/,
      // ChatGPT-only extras (usage and limits) go to chatgpt.com itself, not the model route.
      ownHosts: ["chatgpt.com"],
    });
    assert.ok(
      requests.every((r) => r.headers["chatgpt-account-id"] === ACCOUNT),
      "the account id came from the real token, on every call",
    );
  });
});
