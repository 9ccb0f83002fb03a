import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { manifestSchema } from "../../src/core/manifest/schema.js";
import type { HostFacts } from "../../src/core/plan/make-plan.js";
import { makePlan } from "../../src/core/plan/make-plan.js";
import { TOKEN_PLACEHOLDER } from "../../src/core/plan/placeholders.js";
import { codexConfig, tomlString } from "../../src/providers/codex/codex-config.js";
import { provisionFiles } from "../../src/providers/provision.js";

const OPENAI = {
  name: "openai",
  path: "/openai",
  upstream: "https://api.openai.com/v1",
  token: { env: "OPENAI_API_KEY" },
  role: "openai-base-url",
};

function plan(bottle: Record<string, unknown> = {}, agent: Record<string, unknown> = {}) {
  const manifest = manifestSchema.parse({
    agents: {
      coder: {
        bottle: "dev",
        provider: "codex",
        prompt: "Fix the bug.",
        skills: ["tdd"],
        ...agent,
      },
    },
    bottles: { dev: { credentials: [OPENAI], ...bottle } },
  });
  const facts: HostFacts = {
    home: "/home/op",
    manifestPath: "/work/bottle.yaml",
    envNames: new Set(["OPENAI_API_KEY"]),
    engine: { runtimes: ["runc"], source: "engine" },
    defaultBase: "node:20-bookworm-slim",
    recipeHashes: {
      "images/agent-codex/Dockerfile": "c".repeat(64),
      "images/sidecar/Dockerfile": "b".repeat(64),
    },
    identitySuffix: "abc123",
    workspaceRemotes: [],
    knownHosts: new Set(),
  };
  return makePlan(manifest, { agent: "coder" }, facts);
}

function file(files: ReturnType<typeof provisionFiles>, path: string): string | undefined {
  return files.find((f) => f.path === path)?.content;
}

describe("the codex provider", () => {
  it("plans the Codex CLI: its image, no background server, resume of the last session", () => {
    const p = plan();
    assert.deepEqual(p.command, ["codex", "--no-daemon"]);
    assert.deepEqual(p.resume_command, ["codex", "--no-daemon", "resume", "--last"]);
    assert.equal(p.images.agent.dockerfile, "images/agent-codex/Dockerfile");
    assert.match(p.images.agent.tag, /^bot-bottle\/agent-codex:c{12}$/);
    // The prompt is not an argument: Codex reads it from ~/.codex/AGENTS.md. In a supervised
    // bottle (the default) it carries the note on the supervise tools, as Claude's does.
    assert.match(p.prompt ?? "", /^Fix the bug\.\n\n.*request_egress/s);
    assert.equal(plan({ supervise: false }).prompt, "Fix the bug.");
    assert.deepEqual(p.skills, [
      { name: "tdd", from: "/home/op/.claude/skills/tdd", to: "/home/agent/.codex/skills/tdd" },
    ]);
    assert.deepEqual(p.env["OPENAI_API_KEY"], { from_bottle: TOKEN_PLACEHOLDER });
    assert.deepEqual(p.env["OPENAI_BASE_URL"], { from_bottle: "http://127.0.0.1:3129/openai" });
    assert.deepEqual(p.warnings, []);
    const without = plan({ credentials: [] });
    assert.ok(without.warnings.some((w) => /needs a credential with role openai-base-url/.test(w)));
  });

  it("points Codex at the credential route, with no sandbox or approvals inside the bottle", () => {
    const files = provisionFiles(plan({ supervise: false }));
    const config = file(files, "/home/agent/.codex/config.toml") ?? "";
    assert.match(config, /^model_provider = "bot-bottle"$/m);
    assert.match(config, /^sandbox_mode = "danger-full-access"$/m);
    assert.match(config, /^approval_policy = "never"$/m);
    assert.match(config, /^check_for_update_on_startup = false$/m);
    assert.match(
      config,
      /\[model_providers\.bot-bottle\]\nname = "[^"\n]+"\nbase_url = "http:\/\/127\.0\.0\.1:3129\/openai"\nenv_key = "OPENAI_API_KEY"\nwire_api = "responses"\n/,
    );
    assert.match(config, /\[projects\."\/workspace"\]\ntrust_level = "trusted"\n/);
    assert.match(config, /\[analytics\]\nenabled = false\n/);
    assert.match(config, /\[features\]\nplugins = false\n/);
    assert.doesNotMatch(config, /mcp_servers/);
    assert.equal(file(files, "/home/agent/.codex/AGENTS.md"), "Fix the bug.\n");
    assert.equal(file(files, "/home/agent/.codex/auth.json"), undefined);
  });

  it("registers the supervise MCP server only when the bottle has supervise on", () => {
    assert.match(
      codexConfig(plan({ supervise: true })),
      /\[mcp_servers\.supervise\]\nurl = "http:\/\/127\.0\.0\.1:3131\/mcp"\n/,
    );
    assert.doesNotMatch(codexConfig(plan({ supervise: false })), /supervise/);
  });

  it("writes no AGENTS.md without a prompt, and no model provider without a route", () => {
    const files = provisionFiles(
      plan({ credentials: [], supervise: false }, { prompt: undefined }),
    );
    assert.equal(file(files, "/home/agent/.codex/AGENTS.md"), undefined);
    const supervised = provisionFiles(plan({ credentials: [] }, { prompt: undefined }));
    assert.match(file(supervised, "/home/agent/.codex/AGENTS.md") ?? "", /wait_for_decision/);
    const config = file(files, "/home/agent/.codex/config.toml") ?? "";
    assert.doesNotMatch(config, /model_provider/);
    assert.match(config, /^sandbox_mode = "danger-full-access"$/m);
  });

  it("writes TOML strings with escapes, and refuses characters TOML cannot hold", () => {
    assert.equal(tomlString('a "b" \\ c\n'), '"a \\"b\\" \\\\ c\\n"');
    assert.throws(() => tomlString("a\u007fb"));
  });
});
