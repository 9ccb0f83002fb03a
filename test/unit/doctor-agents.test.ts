import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { agentChecks } from "../../src/cli/commands/doctor-agents.js";
import { manifestSchema } from "../../src/core/manifest/schema.js";

const KEY = "sk-proj-doctor-FAKE-0123456789";

function manifest(credentials: unknown[]) {
  return manifestSchema.parse({
    agents: {
      coder: { bottle: "dev", provider: "codex" },
      sh: { bottle: "dev", provider: "shell" },
    },
    bottles: { dev: { credentials } },
  });
}

const OPENAI = {
  name: "openai",
  path: "/openai",
  upstream: "https://api.openai.com/v1",
  token: { env: "OPENAI_API_KEY" },
  role: "openai-base-url",
};

function host(env: Record<string, string>) {
  return { env, home: "/home/op", cwd: "/work" };
}

describe("doctor's agent checks", () => {
  it("passes a Codex agent whose key is set, and never prints it", () => {
    const checks = agentChecks(
      manifest([OPENAI]),
      "/work/bottle.yaml",
      host({ OPENAI_API_KEY: KEY }),
    );
    assert.equal(checks.length, 1, "the shell needs no model");
    const check = checks.at(0);
    assert.ok(check);
    assert.equal(check.status, "ok");
    assert.match(check.detail, /coder \(OpenAI Codex CLI\).*\$OPENAI_API_KEY.*\/openai/);
    assert.ok(!JSON.stringify(checks).includes(KEY));
  });

  it("names the variable to set when the key is missing", () => {
    const check = agentChecks(manifest([OPENAI]), "/work/bottle.yaml", host({})).at(0);
    assert.ok(check);
    assert.equal(check.status, "warn");
    assert.match(check.detail, /\$OPENAI_API_KEY is not set/);
    assert.match(check.fix ?? "", /Export an OpenAI API key as \$OPENAI_API_KEY/);
  });

  it("says which credential to add when the bottle has no openai-base-url route", () => {
    const check = agentChecks(manifest([]), "/work/bottle.yaml", host({ OPENAI_API_KEY: KEY })).at(
      0,
    );
    assert.ok(check);
    assert.equal(check.status, "warn");
    assert.match(check.detail, /no credential with role openai-base-url/);
    assert.match(
      check.fix ?? "",
      /upstream: https:\/\/api\.openai\.com\/v1.*role: openai-base-url/,
    );
  });

  it("reads a token file to see that it is there", () => {
    const cred = { ...OPENAI, token: { file: "/nonexistent/openai-key" } };
    const check = agentChecks(manifest([cred]), "/work/bottle.yaml", host({})).at(0);
    assert.ok(check);
    assert.equal(check.status, "warn");
    assert.match(check.detail, /\/nonexistent\/openai-key is missing or empty/);
  });
});
