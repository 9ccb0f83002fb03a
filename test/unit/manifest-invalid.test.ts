/**
 * Invalid manifests, one per row: each must be refused with exit code 2 and a message naming
 * the key path at fault. Runs through the CLI (`manifest validate`), as a user would.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { stringify } from "yaml";
import { cli, makeSandbox, writeManifest } from "../helpers/cli.js";

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment --
   the rows below edit a free-form manifest document on purpose */
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function base(): Doc {
  return {
    agents: { worker: { bottle: "dev", provider: "claude", env: { LOG_LEVEL: "info" } } },
    bottles: {
      dev: {
        egress: { allow: ["example.com"] },
        credentials: [
          {
            name: "anthropic",
            path: "/anthropic",
            upstream: "https://api.anthropic.com",
            token: { env: "ANTHROPIC_API_KEY" },
            role: "anthropic-base-url",
          },
        ],
      },
    },
  };
}

interface Case {
  name: string;
  mutate: (doc: Doc) => void;
  /** Key path the message must name. */
  path: string;
  /** A fragment the message must contain. */
  says?: string;
}

const dev = (doc: Doc): Doc => doc["bottles"].dev as Doc;
const worker = (doc: Doc): Doc => doc["agents"].worker as Doc;

const CASES: Case[] = [
  {
    name: "unknown top-level key, close to a known one",
    mutate: (d) => {
      d["agent"] = d["agents"];
    },
    path: "agent",
    says: 'did you mean "agents"',
  },
  {
    name: "unknown agent key",
    mutate: (d) => {
      worker(d)["promt"] = "x";
    },
    path: "agents.worker.promt",
    says: 'did you mean "prompt"',
  },
  {
    name: "unknown bottle key",
    mutate: (d) => {
      dev(d)["runtim"] = "auto";
    },
    path: "bottles.dev.runtim",
    says: 'did you mean "runtime"',
  },
  {
    name: "unknown egress key",
    mutate: (d) => {
      dev(d)["egress"].alow = [];
    },
    path: "bottles.dev.egress.alow",
    says: 'did you mean "allow"',
  },
  {
    name: "unknown key far from any",
    mutate: (d) => {
      dev(d)["zzzzzz"] = 1;
    },
    path: "bottles.dev.zzzzzz",
    says: "unknown key",
  },
  {
    name: "unknown key in a rule object",
    mutate: (d) => {
      dev(d)["egress"].allow = [{ host: "a.example.com", method: ["GET"] }];
    },
    path: "bottles.dev.egress.allow[0].method",
    says: 'did you mean "methods"',
  },
  {
    name: "agent names a missing bottle",
    mutate: (d) => {
      worker(d)["bottle"] = "prod";
    },
    path: "agents.worker.bottle",
    says: 'bottle "prod" is not defined',
  },
  {
    name: "agent without bottle",
    mutate: (d) => {
      delete worker(d)["bottle"];
    },
    path: "agents.worker.bottle",
    says: "required",
  },
  {
    name: "unknown provider",
    mutate: (d) => {
      worker(d)["provider"] = "gpt";
    },
    path: "agents.worker.provider",
    says: "must be one of",
  },
  {
    name: "no agents",
    mutate: (d) => {
      d["agents"] = {};
    },
    path: "agents",
    says: "at least one agent",
  },
  {
    name: "agent name with capitals",
    mutate: (d) => {
      d["agents"].Worker = worker(d);
    },
    path: "agents.Worker",
    says: "invalid key: agent names are lower-case",
  },
  {
    name: "bottle name with a space",
    mutate: (d) => {
      d["bottles"]["my bottle"] = {};
    },
    path: 'bottles."my bottle"',
    says: "invalid key: bottle names",
  },
  {
    name: "env value with a newline",
    mutate: (d) => {
      worker(d)["env"].BAD = "a\nb";
    },
    path: "agents.worker.env.BAD",
    says: "newline",
  },
  {
    name: "env value that is not a string",
    mutate: (d) => {
      worker(d)["env"].PORT = 8080;
    },
    path: "agents.worker.env.PORT",
  },
  {
    name: "env forwarding inside a longer value",
    mutate: (d) => {
      worker(d)["env"].GREETING = "hi ${USER}";
    },
    path: "agents.worker.env.GREETING",
    says: "whole value",
  },
  {
    name: "env name with a dash",
    mutate: (d) => {
      worker(d)["env"]["MY-VAR"] = "1";
    },
    path: "agents.worker.env.MY-VAR",
    says: "invalid key",
  },
  {
    name: "skills not a list",
    mutate: (d) => {
      worker(d)["skills"] = "tdd";
    },
    path: "agents.worker.skills",
  },
  {
    name: "skill missing on the host",
    mutate: (d) => {
      worker(d)["skills"] = ["no-such-skill"];
    },
    path: "agents.worker.skills[0]",
    says: "not installed",
  },
  {
    name: "allow-all wildcard",
    mutate: (d) => {
      dev(d)["egress"].allow = ["*"];
    },
    path: "bottles.dev.egress.allow[0]",
    says: "every host",
  },
  {
    name: "TLD-wide wildcard",
    mutate: (d) => {
      dev(d)["egress"].allow = ["*.com"];
    },
    path: "bottles.dev.egress.allow[0]",
    says: "top-level domain",
  },
  {
    name: "second-level public suffix wildcard",
    mutate: (d) => {
      dev(d)["egress"].allow = ["ok.org", "*.co.uk"];
    },
    path: "bottles.dev.egress.allow[1]",
    says: "top-level domain",
  },
  {
    name: "wildcard in the middle",
    mutate: (d) => {
      dev(d)["egress"].allow = ["api.*.example.com"];
    },
    path: "bottles.dev.egress.allow[0]",
    says: "leading",
  },
  {
    name: "URL instead of a host",
    mutate: (d) => {
      dev(d)["egress"].allow = ["https://example.com/x"];
    },
    path: "bottles.dev.egress.allow[0]",
    says: "host name only",
  },
  {
    name: "host rule with a bad port",
    mutate: (d) => {
      dev(d)["egress"].allow = [{ host: "example.com", ports: [70000] }];
    },
    path: "bottles.dev.egress.allow[0].ports[0]",
    says: "at most 65535",
  },
  {
    name: "deny rule that is not a host",
    mutate: (d) => {
      dev(d)["egress"].deny = ["bad host"];
    },
    path: "bottles.dev.egress.deny[0]",
  },
  {
    name: "unknown dlp mode",
    mutate: (d) => {
      dev(d)["egress"].dlp = "maybe";
    },
    path: "bottles.dev.egress.dlp",
    says: "must be one of",
  },
  {
    name: "unknown tls mode",
    mutate: (d) => {
      dev(d)["egress"].tls = "inspect";
    },
    path: "bottles.dev.egress.tls",
    says: "must be one of",
  },
  {
    name: "unknown runtime",
    mutate: (d) => {
      dev(d)["runtime"] = "kata";
    },
    path: "bottles.dev.runtime",
    says: "must be one of",
  },
  {
    name: "memory without a unit pattern",
    mutate: (d) => {
      dev(d)["resources"] = { memory: "lots" };
    },
    path: "bottles.dev.resources.memory",
    says: "size",
  },
  {
    name: "negative cpus",
    mutate: (d) => {
      dev(d)["resources"] = { cpus: -1 };
    },
    path: "bottles.dev.resources.cpus",
  },
  {
    name: "pids too low",
    mutate: (d) => {
      dev(d)["resources"] = { pids: 4 };
    },
    path: "bottles.dev.resources.pids",
  },
  {
    name: "credential role twice in a bottle",
    mutate: (d) => {
      dev(d)["credentials"].push({
        name: "second",
        path: "/second",
        upstream: "https://example.com",
        token: { env: "T" },
        role: "anthropic-base-url",
      });
    },
    path: "bottles.dev.credentials[1].role",
    says: "at most once",
  },
  {
    name: "credential with an unknown role",
    mutate: (d) => {
      dev(d)["credentials"][0].role = "openai";
    },
    path: "bottles.dev.credentials[0].role",
  },
  {
    name: "credential path without a slash",
    mutate: (d) => {
      dev(d)["credentials"][0].path = "anthropic";
    },
    path: "bottles.dev.credentials[0].path",
  },
  {
    name: "credential upstream not a URL",
    mutate: (d) => {
      dev(d)["credentials"][0].upstream = "api.anthropic.com";
    },
    path: "bottles.dev.credentials[0].upstream",
  },
  {
    name: "credential token as a literal",
    mutate: (d) => {
      dev(d)["credentials"][0].token = "sk-ant-api03-FAKE-literal-token";
    },
    path: "bottles.dev.credentials[0].token",
  },
  {
    name: "credential token file missing",
    mutate: (d) => {
      dev(d)["credentials"][0].token = { file: "/nonexistent/token" };
    },
    path: "bottles.dev.credentials[0].token.file",
    says: "not found",
  },
  {
    name: "duplicate credential names",
    mutate: (d) => {
      dev(d)["credentials"].push({ ...dev(d)["credentials"][0], path: "/other", role: undefined });
    },
    path: "bottles.dev.credentials[1].name",
    says: "duplicate",
  },
  {
    name: "git identity file missing",
    mutate: (d) => {
      dev(d)["git"] = [
        {
          name: "app",
          upstream: "git@example.com:me/app.git",
          identity_file: "~/.ssh/missing_key",
        },
      ];
    },
    path: "bottles.dev.git[0].identity_file",
    says: "not found",
  },
  {
    name: "git SSH upstream without identity file",
    mutate: (d) => {
      dev(d)["git"] = [{ name: "app", upstream: "git@example.com:me/app.git" }];
    },
    path: "bottles.dev.git[0].identity_file",
  },
  {
    name: "git upstream that is no URL",
    mutate: (d) => {
      dev(d)["git"] = [{ name: "app", upstream: "app.git" }];
    },
    path: "bottles.dev.git[0].upstream",
  },
  {
    name: "git push force not a boolean",
    mutate: (d) => {
      dev(d)["git"] = [
        { name: "app", upstream: "https://example.com/app.git", push: { force: "yes" } },
      ];
    },
    path: "bottles.dev.git[0].push.force",
  },
  {
    name: "supervise not a boolean",
    mutate: (d) => {
      dev(d)["supervise"] = "on";
    },
    path: "bottles.dev.supervise",
  },
  {
    name: "image dockerfile missing",
    mutate: (d) => {
      dev(d)["image"] = { dockerfile: "./Dockerfile.nope" };
    },
    path: "bottles.dev.image.dockerfile",
    says: "not found",
  },
  {
    name: "wrong version",
    mutate: (d) => {
      d["version"] = 2;
    },
    path: "version",
  },
];

describe("invalid manifests", () => {
  it("has at least 30 cases", () => {
    assert.ok(CASES.length >= 30, `only ${CASES.length} cases`);
  });

  for (const testCase of CASES) {
    it(`refuses: ${testCase.name}`, async () => {
      const box = makeSandbox();
      const doc = base();
      testCase.mutate(doc);
      const file = writeManifest(box, stringify(doc));
      const result = await cli(["manifest", "validate"], box);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      assert.ok(result.stderr.includes(file), `names the file: ${result.stderr}`);
      const line = result.stderr
        .split("\n")
        .find((l) => l.trimStart().startsWith(`${testCase.path}:`));
      assert.ok(line !== undefined, `names ${testCase.path}:\n${result.stderr}`);
      if (testCase.says !== undefined)
        assert.ok(line.includes(testCase.says), `says "${testCase.says}": ${line}`);
      assert.match(result.stderr, /hint: /);
    });
  }

  it("never echoes a value, even a secret pasted in the wrong place", async () => {
    const box = makeSandbox();
    const doc = base();
    const fake = "sk-ant-api03-FAKEFAKEFAKE-not-a-real-token";
    dev(doc)["credentials"][0].token = fake;
    worker(doc)["env"].BAD = `${fake}\nsecond line`;
    dev(doc)["egress"].allow = [`${fake}.*.example.com`];
    writeManifest(box, stringify(doc));
    const result = await cli(["manifest", "validate"], box);
    assert.equal(result.code, 2);
    assert.ok(!result.stderr.includes("FAKEFAKE"), result.stderr);
  });

  it("points at the line of the problem", async () => {
    const box = makeSandbox();
    writeManifest(box, "agents:\n  a:\n    bottle: b\nbottles:\n  b:\n    runtime: kata\n");
    const result = await cli(["manifest", "validate"], box);
    assert.match(result.stderr, /bottles\.b\.runtime: .*\(line 6\)/);
  });

  it("reports YAML syntax errors with a position and no file content", async () => {
    const box = makeSandbox();
    writeManifest(box, "agents:\n  a: [unclosed, sk-ant-FAKE-secret-value\nbottles: {}\n");
    const result = await cli(["manifest", "validate"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bottle\.yaml:\d+:\d+: not valid YAML or JSON/);
    assert.ok(!result.stderr.includes("sk-ant-FAKE"), result.stderr);
  });

  it("refuses a JSON manifest with a duplicate key", async () => {
    const box = makeSandbox();
    writeManifest(box, '{"agents": {}, "agents": {}, "bottles": {}}', "bottle.json");
    const result = await cli(["manifest", "validate"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bottle\.json:1:\d+/);
  });

  it("says where it looked when no manifest exists", async () => {
    const box = makeSandbox();
    const result = await cli(["manifest", "validate"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /No manifest found/);
    assert.ok(result.stderr.includes(path.join(box.cwd, "bottle.yaml")));
    assert.match(result.stderr, /bottle init/);
    assert.equal(fs.readdirSync(box.cwd).length, 0);
  });
});
