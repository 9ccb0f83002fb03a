import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";
import { PLACEHOLDER_KEY, provisionFiles } from "../../src/providers/provision.js";

describe("provisionFiles", () => {
  it("trusts the workspace and approves only the placeholder key for Claude Code", () => {
    const files = provisionFiles({
      provider: "claude",
      credentials: [],
      git: [],
    } as unknown as BottlePlan);
    assert.equal(files.length, 1);
    const file = files[0];
    assert.ok(file);
    assert.equal(file.path, "/home/agent/.claude.json");
    const state = JSON.parse(file.content) as {
      hasCompletedOnboarding: boolean;
      projects: Record<string, { hasTrustDialogAccepted: boolean }>;
      customApiKeyResponses: { approved: string[] };
    };
    assert.equal(state.hasCompletedOnboarding, true);
    assert.equal(state.projects["/workspace"]?.hasTrustDialogAccepted, true);
    assert.deepEqual(state.customApiKeyResponses.approved, [PLACEHOLDER_KEY.slice(-20)]);
  });

  it("registers the supervise MCP server for Claude Code only in a supervised bottle", () => {
    const plan = (supervise: boolean) =>
      ({ provider: "claude", credentials: [], git: [], supervise }) as unknown as BottlePlan;
    const files = provisionFiles(plan(true));
    const state = JSON.parse(files[0]?.content ?? "{}") as {
      mcpServers?: Record<string, { type: string; url: string }>;
    };
    assert.deepEqual(state.mcpServers, {
      supervise: { type: "http", url: "http://127.0.0.1:3131/mcp" },
    });
    const settings = files.find((f) => f.path === "/home/agent/.claude/settings.json");
    assert.deepEqual(JSON.parse(settings?.content ?? "{}"), {
      permissions: { allow: ["mcp__supervise"] },
    });
    const off = provisionFiles(plan(false));
    assert.equal(off.length, 1);
    assert.equal(
      (JSON.parse(off[0]?.content ?? "{}") as { mcpServers?: unknown }).mcpServers,
      undefined,
    );
    assert.deepEqual(
      provisionFiles({
        provider: "shell",
        credentials: [],
        git: [],
        supervise: true,
      } as unknown as BottlePlan),
      [],
    );
  });

  it("writes nothing for the shell", () => {
    assert.deepEqual(
      provisionFiles({ provider: "shell", credentials: [], git: [] } as unknown as BottlePlan),
      [],
    );
  });

  it("points npm and git at their credential routes, with placeholders only", () => {
    const plan = {
      provider: "shell",
      credentials: [
        {
          name: "npm",
          path: "/npm",
          upstream: "https://registry.example.test",
          role: "npm-registry",
        },
        { name: "gh", path: "/gh", upstream: "https://git.example.test", role: "git-https" },
      ],
      git: [],
    } as unknown as BottlePlan;
    const files = provisionFiles(plan);
    assert.deepEqual(
      files.map((f) => [f.path, f.content]),
      [
        [
          "/home/agent/.gitconfig",
          '[url "http://127.0.0.1:3129/gh/"]\n\tinsteadOf = https://git.example.test/\n',
        ],
        [
          "/home/agent/.npmrc",
          "registry=http://127.0.0.1:3129/npm/\n//127.0.0.1:3129/npm/:_authToken=placeholder-held-by-bot-bottle\n",
        ],
      ],
    );
  });

  it("sends each git entry's upstream URL to the git gate, in the same ~/.gitconfig", () => {
    const plan = {
      provider: "shell",
      credentials: [
        { name: "gh", path: "/gh", upstream: "https://git.example.test", role: "git-https" },
      ],
      git: [
        { name: "app", upstream: "git@github.com:me/app.git" },
        { name: "lib", upstream: "ssh://git@git.example.test/team/lib" },
      ],
    } as unknown as BottlePlan;
    const [file, ...rest] = provisionFiles(plan);
    assert.equal(rest.length, 0);
    assert.equal(file?.path, "/home/agent/.gitconfig");
    assert.equal(
      file.content,
      '[url "http://127.0.0.1:3130/app"]\n\tinsteadOf = git@github.com:me/app\n' +
        '[url "http://127.0.0.1:3130/lib"]\n\tinsteadOf = ssh://git@git.example.test/team/lib\n' +
        '[url "http://127.0.0.1:3129/gh/"]\n\tinsteadOf = https://git.example.test/\n',
    );
  });
});
