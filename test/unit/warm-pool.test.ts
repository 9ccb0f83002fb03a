/**
 * Warm pools, the pure and file-level parts: what a pool is keyed by (a pooled bottle whose plan
 * would differ now must not match), the claim (exactly one of many concurrent takers wins, across
 * processes), the refill lock, and which starts the pooled path serves.
 */
import assert from "node:assert/strict";
import { processAlive } from "../../src/core/host/process-alive.js";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { cwdStartArgs, pooledStartArgs } from "../../src/cli/pooled-start.js";
import { cliProcess, makeSandbox, writeManifest } from "../helpers/cli.js";
import { packageRoot } from "../../src/core/host/package-root.js";
import type { HostEnv } from "../../src/core/host/paths.js";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";
import type { PoolSources } from "../../src/core/pool/pool-key.js";
import { poolKey, sourcesFromPlan } from "../../src/core/pool/pool-key.js";
import { readPoolReadings } from "../../src/core/pool/pool-readings.js";
import type { PoolEntry } from "../../src/core/pool/pool-store.js";
import {
  abandonedClaims,
  agentPoolDir,
  claim,
  endClaim,
  listEntries,
  parsePoolEntry,
  releaseRefillLock,
  takeRefillLock,
  writeReady,
  writeTarget,
} from "../../src/core/pool/pool-store.js";

function tempHost(env: Record<string, string> = {}): HostEnv {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "pool-unit-"));
  return { env: { BOT_BOTTLE_HOME: path.join(root, "bb"), ...env }, home: root, cwd: root };
}

function sourcesIn(host: HostEnv): PoolSources {
  const manifest = path.join(host.cwd, "bottle.yaml");
  fs.writeFileSync(manifest, "agents: {}\n");
  const skill = path.join(host.home, ".claude", "skills", "tdd");
  fs.mkdirSync(skill, { recursive: true });
  fs.writeFileSync(path.join(skill, "SKILL.md"), "test first\n");
  const knownHosts = path.join(host.home, "known_hosts");
  fs.writeFileSync(knownHosts, "git.test ssh-ed25519 AAAA\n");
  return {
    manifest,
    files: [knownHosts],
    dirs: [skill],
    env: ["GIT_AUTHOR_NAME"],
    agent_recipe: { dockerfile: "images/agent-shell/Dockerfile", base: "base:test" },
    salt: "0123456789abcdef",
  };
}

const key = (host: HostEnv, sources: PoolSources): string =>
  poolKey(readPoolReadings(host, "dev", sources, packageRoot()));

describe("pool key", () => {
  it("is the same while nothing it covers changed, and differs when any of it does", () => {
    const host = tempHost({ GIT_AUTHOR_NAME: "Ann" });
    const sources = sourcesIn(host);
    const before = key(host, sources);
    assert.equal(key(host, sources), before);
    const changes: [string, () => void, () => void][] = [
      [
        "manifest bytes",
        () => {
          fs.appendFileSync(sources.manifest, "# a comment\n");
        },
        () => {
          fs.writeFileSync(sources.manifest, "agents: {}\n");
        },
      ],
      [
        "a skill's file",
        () => {
          fs.writeFileSync(path.join(sources.dirs[0] ?? "", "SKILL.md"), "changed\n");
        },
        () => {
          fs.writeFileSync(path.join(sources.dirs[0] ?? "", "SKILL.md"), "test first\n");
        },
      ],
      [
        "a new file in a skill",
        () => {
          fs.writeFileSync(path.join(sources.dirs[0] ?? "", "extra.md"), "x");
        },
        () => {
          fs.rmSync(path.join(sources.dirs[0] ?? "", "extra.md"));
        },
      ],
      [
        "known_hosts",
        () => {
          fs.appendFileSync(sources.files[0] ?? "", "other.test ssh-ed25519 BBBB\n");
        },
        () => {
          fs.writeFileSync(sources.files[0] ?? "", "git.test ssh-ed25519 AAAA\n");
        },
      ],
    ];
    for (const [what, change, undo] of changes) {
      change();
      assert.notEqual(key(host, sources), before, what);
      undo();
      assert.equal(key(host, sources), before, `${what} undone`);
    }
    const other = (env: Record<string, string>): string =>
      key({ ...host, env: { ...host.env, ...env } }, sources);
    assert.notEqual(other({ GIT_AUTHOR_NAME: "Bob" }), before, "a forwarded value");
    assert.notEqual(other({ BOT_BOTTLE_BASE_IMAGE: "other:base" }), before, "the base image");
    assert.notEqual(other({ DOCKER_HOST: "unix:///other.sock" }), before, "the engine");
    assert.notEqual(
      poolKey(readPoolReadings(host, "other", sources, packageRoot())),
      before,
      "another agent",
    );
    assert.notEqual(
      key(host, { ...sources, agent_recipe: { ...sources.agent_recipe, base: "b2" } }),
      before,
      "the recipe's base",
    );
  });

  it("keeps no plain hash of a forwarded value: it is salted per pooled bottle", () => {
    const host = tempHost({ GIT_AUTHOR_NAME: "Ann" });
    const sources = sourcesIn(host);
    const a = readPoolReadings(host, "dev", sources, packageRoot());
    const b = readPoolReadings(host, "dev", { ...sources, salt: "another salt" }, packageRoot());
    assert.notEqual(a.env, b.env);
    assert.ok(!JSON.stringify(a).includes("Ann"));
  });

  it("takes its sources from the plan: forwarded names, skills, known_hosts unless pinned", () => {
    const plan = {
      manifest: "/m/bottle.yaml",
      env: { A: { value: "1" }, B: { from_host: "HOST_B" }, C: { from_bottle: "x" } },
      skills: [{ name: "tdd", from: "/h/.claude/skills/tdd", to: "/home/agent/x" }],
      git: [
        { known_hosts: "/h/.ssh/known_hosts", host_keys: [] },
        { known_hosts: "/h/pinned", host_keys: ["git.test ssh-ed25519 AAAA"] },
      ],
      images: { agent: { dockerfile: "images/agent-shell/Dockerfile", base: "b" } },
    } as unknown as BottlePlan;
    assert.deepEqual(sourcesFromPlan(plan, "s"), {
      manifest: "/m/bottle.yaml",
      files: ["/h/.ssh/known_hosts"],
      dirs: ["/h/.claude/skills/tdd"],
      env: ["HOST_B"],
      agent_recipe: { dockerfile: "images/agent-shell/Dockerfile", base: "b" },
      salt: "s",
    });
  });
});

function entry(identity: string, created: string): PoolEntry {
  return {
    identity,
    agent: "dev",
    key: "k",
    sources: {
      manifest: "/m",
      files: [],
      dirs: [],
      env: [],
      agent_recipe: { dockerfile: "d", base: "b" },
      salt: "s",
    },
    created_at: created,
  };
}

describe("pool claims", () => {
  it("lists ready entries oldest first and skips what is not an entry", () => {
    const host = tempHost();
    writeReady(host, entry("dev-bbbbbb", "2026-01-02T00:00:00Z"));
    writeReady(host, entry("dev-aaaaaa", "2026-01-01T00:00:00Z"));
    fs.writeFileSync(path.join(agentPoolDir(host, "dev"), "dev-cccccc.ready.json"), "{}");
    assert.deepEqual(
      listEntries(host, "dev", "ready.json").map((e) => e.identity),
      ["dev-aaaaaa", "dev-bbbbbb"],
    );
    assert.equal(parsePoolEntry({ ...entry("../escape", "t") }), undefined);
  });

  it("gives a bottle to exactly one of many processes claiming it at once", async () => {
    const host = tempHost();
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const e = entry(`dev-r${String(round)}`, "2026-01-01T00:00:00Z");
      writeReady(host, e);
      const script = `
        import { claim } from ${JSON.stringify(path.join(packageRoot(), "dist/src/core/pool/pool-store.js"))};
        const host = JSON.parse(process.argv[1]); const e = JSON.parse(process.argv[2]);
        await new Promise((r) => setTimeout(r, Number(process.argv[3]) - Date.now()));
        process.stdout.write(claim(host, e) ? "won" : "lost");`;
      const at = Date.now() + 600;
      const results = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            new Promise<string>((resolve, reject) => {
              const child = spawn(
                process.execPath,
                [
                  "--input-type=module",
                  "-e",
                  script,
                  JSON.stringify(host),
                  JSON.stringify(e),
                  String(at),
                ],
                { stdio: ["ignore", "pipe", "inherit"] },
              );
              let out = "";
              child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
              child.on("error", reject);
              child.on("close", () => {
                resolve(out);
              });
            }),
        ),
      );
      assert.equal(results.filter((r) => r === "won").length, 1, results.join(","));
      assert.equal(results.filter((r) => r === "lost").length, 5, results.join(","));
      assert.deepEqual(listEntries(host, "dev", "ready.json"), []);
    }
  });

  it("ends a claim as done, set aside, or back in the pool", () => {
    const host = tempHost();
    const e = entry("dev-aaaaaa", "2026-01-01T00:00:00Z");
    writeReady(host, e);
    assert.ok(claim(host, e));
    assert.ok(!claim(host, e), "a claimed bottle is not claimed again");
    endClaim(host, e, "release");
    assert.equal(listEntries(host, "dev", "ready.json").length, 1);
    assert.ok(claim(host, e));
    endClaim(host, e, "discard");
    assert.equal(listEntries(host, "dev", "discard.json").length, 1);
    assert.equal(listEntries(host, "dev", "ready.json").length, 0);
  });

  it("finds claims whose process is gone", () => {
    const host = tempHost();
    const e = entry("dev-aaaaaa", "2026-01-01T00:00:00Z");
    writeReady(host, e);
    assert.ok(claim(host, e, 999_999_999));
    assert.deepEqual(abandonedClaims(host, "dev", processAlive), [
      { identity: "dev-aaaaaa", pid: 999_999_999 },
    ]);
    assert.deepEqual(
      abandonedClaims(host, "dev", () => true),
      [],
    );
  });

  it("holds one refill lock per agent, and takes over one whose process is gone", () => {
    const host = tempHost();
    assert.ok(takeRefillLock(host, "dev", processAlive, 999_999_998));
    assert.ok(takeRefillLock(host, "dev", processAlive), "a dead holder's lock is taken over");
    assert.ok(!takeRefillLock(host, "dev", () => true, 12345), "a live holder keeps it");
    releaseRefillLock(host, "dev");
    assert.ok(takeRefillLock(host, "dev", () => true, 12345));
  });
});

describe("which starts the pooled path serves", () => {
  it("a plain start, with --yes, --detach and --manifest; nothing else", () => {
    assert.deepEqual(pooledStartArgs(["start", "dev", "--yes", "-d", "--manifest", "m.yaml"]), {
      agent: "dev",
      manifest: "m.yaml",
      yes: true,
      detach: true,
    });
    assert.deepEqual(pooledStartArgs(["start", "-y", "--manifest=x", "dev"])?.manifest, "x");
    for (const argv of [
      ["start", "dev", "--cwd"],
      ["start", "dev", "--dry-run"],
      ["start", "dev", "--help"],
      ["start"],
      ["start", "a", "b"],
      ["start", "dev", "-m"],
      ["list"],
    ])
      assert.equal(pooledStartArgs(argv), undefined, argv.join(" "));
  });

  it("a --cwd start is never served from the pool, and says why when the agent has one", async () => {
    assert.equal(cwdStartArgs(["start", "dev", "--yes"]), undefined, "no --cwd: the pooled path");
    assert.equal(cwdStartArgs(["start", "dev", "--cwd", "--dry-run"]), undefined);
    assert.equal(cwdStartArgs(["start", "dev", "--cwd", "-y"])?.agent, "dev");

    const box = makeSandbox();
    const manifest = writeManifest(
      box,
      "agents:\n  dev:\n    bottle: box\n    provider: shell\nbottles:\n  box: {}\n",
    );
    const host: HostEnv = { env: box.env, home: box.home, cwd: box.cwd };
    writeTarget(host, { agent: "dev", size: 2, manifest: fs.realpathSync(manifest) });
    // No engine to reach: the normal start runs (and stops there), after saying why.
    const noEngine = { DOCKER_HOST: `unix://${path.join(box.home, "no-engine.sock")}` };
    const run = await cliProcess(["start", "dev", "--cwd", "--yes", "--detach"], box, noEngine);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /warm pool: not used: --cwd copies this directory into the workspace/);
    assert.match(run.stderr, /`bottle start dev` without --cwd takes a pooled one/);
    const planned = await cliProcess(["start", "dev", "--cwd", "--dry-run"], box, noEngine);
    assert.equal(planned.code, 0, planned.stderr);
    assert.doesNotMatch(planned.stderr, /warm pool/, "a dry run starts nothing: no word on pools");
    writeTarget(host, { agent: "dev", size: 0, manifest: fs.realpathSync(manifest) });
    const none = await cliProcess(["start", "dev", "--cwd", "--yes", "--detach"], box, noEngine);
    assert.doesNotMatch(none.stderr, /warm pool/, "no pool: nothing to explain");
  });
});
