import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import type { Manifest } from "../../src/core/manifest/schema.js";
import { manifestSchema } from "../../src/core/manifest/schema.js";
import type { HostFacts } from "../../src/core/plan/make-plan.js";
import { SUPERVISE_NOTE } from "../../src/core/plan/supervise-note.js";
import { makePlan } from "../../src/core/plan/make-plan.js";

function manifest(overrides: Record<string, unknown> = {}): Manifest {
  return manifestSchema.parse({
    agents: {
      worker: {
        bottle: "dev",
        provider: "claude",
        prompt: "Fix the bug.",
        skills: ["tdd"],
        env: { LOG_LEVEL: "debug", AUTHOR: "${USER}" },
      },
      sh: { bottle: "dev", provider: "shell" },
    },
    bottles: {
      dev: {
        egress: {
          allow: [
            "codeload.github.com",
            { host: "api.github.com", methods: ["GET"], tls: "passthrough" },
          ],
          deny: ["Pastebin.com"],
        },
        resources: { memory: "512m", cpus: 1.5, pids: 256 },
        credentials: [
          {
            name: "anthropic",
            path: "/anthropic",
            upstream: "https://api.anthropic.com",
            token: { env: "ANTHROPIC_API_KEY" },
            role: "anthropic-base-url",
          },
        ],
        git: [{ name: "app", upstream: "git@example.com:me/app.git", identity_file: "~/.ssh/key" }],
        ...overrides,
      },
    },
  });
}

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    home: "/home/op",
    manifestPath: "/work/bottle.yaml",
    envNames: new Set(["USER", "ANTHROPIC_API_KEY"]),
    engine: { runtimes: ["runc", "runsc"], source: "engine" },
    defaultBase: "node:20-bookworm-slim",
    recipeHashes: {
      "images/agent-claude/Dockerfile": "a".repeat(64),
      "images/sidecar/Dockerfile": "b".repeat(64),
    },
    identitySuffix: "abc123",
    workspaceRemotes: [],
    knownHosts: new Set(["example.com"]),
    ...overrides,
  };
}

describe("makePlan", () => {
  it("names the bottle <agent>-<suffix> and derives every object name from it", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts());
    assert.equal(plan.identity, "worker-abc123");
    assert.equal(plan.containers.agent, "bot-bottle-worker-abc123-agent");
    assert.equal(plan.network.sidecar, "bot-bottle-worker-abc123-net");
    assert.equal(plan.labels["bot-bottle.identity"], "worker-abc123");
    assert.equal(plan.network.agent, "none");
  });

  it("chooses runsc on auto only when the engine has it", () => {
    assert.equal(makePlan(manifest(), { agent: "worker" }, facts()).runtime.resolved, "runsc");
    const noRunsc = facts({ engine: { runtimes: ["runc"], source: "engine" } });
    assert.equal(makePlan(manifest(), { agent: "worker" }, noRunsc).runtime.resolved, "runc");
    assert.equal(
      makePlan(manifest({ runtime: "runc" }), { agent: "worker" }, facts()).runtime.resolved,
      "runc",
    );
  });

  it("fails clearly when runsc is demanded and the engine lacks it", () => {
    assert.throws(
      () =>
        makePlan(
          manifest({ runtime: "runsc" }),
          { agent: "worker" },
          facts({ engine: { runtimes: ["runc"], source: "engine" } }),
        ),
      (e: unknown) =>
        isBottleError(e) && e.code === "runtime_unavailable" && /daemon\.json/.test(e.hint ?? ""),
    );
  });

  it("resolves resources into engine units", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts());
    assert.deepEqual(plan.resources, {
      memory_bytes: 512 * 1024 ** 2,
      nano_cpus: 1.5e9,
      pids: 256,
    });
  });

  it("turns egress rules into the proxy's policy, deny by default", () => {
    const { egress } = makePlan(manifest(), { agent: "worker" }, facts());
    assert.equal(egress.default, "deny");
    assert.deepEqual(
      egress.allow.map((r) => [r.host, r.methods, r.tls, r.ports]),
      [
        ["codeload.github.com", null, "intercept", [443, 80]],
        ["api.github.com", ["GET"], "passthrough", [443, 80]],
      ],
    );
    // The manifest's own first, then the built-in list (builtin-deny.ts), without duplicates.
    assert.equal(egress.deny[0], "pastebin.com");
    assert.ok(egress.deny.includes("*.webhook.site"));
    assert.equal(egress.deny.filter((host) => host === "pastebin.com").length, 1);
  });

  it("names where secrets come from, never their values", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts());
    assert.deepEqual(plan.credentials[0]?.token_source, { env: "ANTHROPIC_API_KEY" });
    assert.deepEqual(plan.env["AUTHOR"], { from_host: "USER" });
    assert.deepEqual(plan.env["LOG_LEVEL"], { value: "debug" });
    assert.deepEqual(plan.env["ANTHROPIC_BASE_URL"], {
      from_bottle: "http://127.0.0.1:3129/anthropic",
    });
    const [git] = plan.git;
    assert.ok(git);
    assert.equal(git.identity_file, "/home/op/.ssh/key");
    assert.deepEqual(git.push.branches, ["bottle/worker-abc123/*"]);
    assert.equal(git.token_source, null);
    assert.deepEqual(git.host_keys, []);
  });

  it("warns when no known host key would let the gate reach a git upstream", () => {
    const unknown = makePlan(manifest(), { agent: "worker" }, facts({ knownHosts: new Set() }));
    assert.ok(
      unknown.warnings.some((w) =>
        /git app: ~\/\.ssh\/known_hosts has no key for example\.com, so the gate will refuse it/.test(
          w,
        ),
      ),
      unknown.warnings.join("\n"),
    );
    const known = makePlan(manifest(), { agent: "worker" }, facts());
    assert.ok(!known.warnings.some((w) => w.includes("has no key")));
    const pinned = makePlan(
      manifest({
        git: [
          {
            name: "app",
            upstream: "ssh://git@example.com:2222/me/app.git",
            identity_file: "~/.ssh/key",
            host_keys: ["[example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOf8"],
          },
        ],
      }),
      { agent: "worker" },
      facts({ knownHosts: new Set() }),
    );
    assert.ok(!pinned.warnings.some((w) => w.includes("has no key")), pinned.warnings.join("\n"));
  });

  it("points the --cwd repository's remotes that name a git entry at the entry's upstream", () => {
    const remotes = [
      { name: "origin", url: "ssh://git@Example.com:22/me/app" },
      { name: "fork", url: "https://example.com/someone-else/app.git" },
      { name: "mirror", url: "https://example.com/me/app.git/" },
    ];
    const plan = makePlan(
      manifest(),
      { agent: "worker", copyFrom: "/src" },
      facts({ workspaceRemotes: remotes }),
    );
    assert.deepEqual(plan.workspace.remotes, [
      { remote: "origin", entry: "app", url: "git@example.com:me/app.git" },
      { remote: "mirror", entry: "app", url: "git@example.com:me/app.git" },
    ]);
    const without = makePlan(manifest(), { agent: "worker" }, facts({ workspaceRemotes: remotes }));
    assert.deepEqual(without.workspace.remotes, []);
  });

  it("warns when a token or forwarded variable is missing on the host", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts({ envNames: new Set() }));
    assert.ok(plan.warnings.some((w) => w.includes("$ANTHROPIC_API_KEY")));
    assert.ok(plan.warnings.some((w) => w.includes("$USER")));
  });

  it("tags images by recipe content hash", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts());
    assert.equal(plan.images.agent.tag, `bot-bottle/agent-claude:${"a".repeat(12)}`);
    assert.equal(plan.images.agent.base, "node:20-bookworm-slim");
    const other = makePlan(
      manifest(),
      { agent: "worker" },
      facts({ recipeHashes: { "images/agent-claude/Dockerfile": "c".repeat(64) } }),
    );
    assert.notEqual(other.images.agent.tag, plan.images.agent.tag);
  });

  it("suggests the closest agent when the name is wrong", () => {
    assert.throws(
      () => makePlan(manifest(), { agent: "workr" }, facts()),
      (e: unknown) =>
        isBottleError(e) &&
        e.code === "agent_unknown" &&
        e.exitCode === 2 &&
        /did you mean "worker"/i.test(e.hint ?? ""),
    );
  });

  it("appends the supervise note to the prompt in a supervised bottle, and nothing when off", () => {
    const plan = makePlan(manifest(), { agent: "worker" }, facts());
    assert.equal(plan.command[1], "--append-system-prompt");
    assert.equal(plan.command[2], `Fix the bug.\n\n${SUPERVISE_NOTE}`);
    assert.match(SUPERVISE_NOTE, /request_egress.*wait_for_decision/s);
    const shell = makePlan(manifest(), { agent: "sh" }, facts());
    assert.deepEqual(shell.command, ["bash", "-l"]);
  });

  it("appends the prompt to Claude Code's system prompt and continues the conversation on resume", () => {
    const plan = makePlan(manifest({ supervise: false }), { agent: "worker" }, facts());
    assert.deepEqual(plan.command, ["claude", "--append-system-prompt", "Fix the bug."]);
    assert.deepEqual(plan.resume_command, [
      "claude",
      "--append-system-prompt",
      "Fix the bug.",
      "--continue",
    ]);
    assert.deepEqual(plan.skills, [{ name: "tdd", from: "/home/op/.claude/skills/tdd" }]);
    const shell = makePlan(manifest(), { agent: "sh" }, facts());
    assert.deepEqual(
      [shell.command, shell.resume_command],
      [
        ["bash", "-l"],
        ["bash", "-l"],
      ],
    );
  });

  it("is a pure function of its inputs", () => {
    const a = makePlan(manifest(), { agent: "worker", copyFrom: "/src" }, facts());
    const b = makePlan(manifest(), { agent: "worker", copyFrom: "/src" }, facts());
    assert.deepEqual(a, b);
    assert.equal(a.workspace.copy_from, "/src");
  });
});
