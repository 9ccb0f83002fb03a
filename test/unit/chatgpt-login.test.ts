import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import { readBottleSecrets } from "../../src/core/host/read-secrets.js";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";
import { chatgptAccessToken, chatgptAccountId } from "../../src/core/tokens/chatgpt-login.js";
import { codexConfig } from "../../src/providers/codex/codex-config.js";
import { codexHomeFiles } from "../../src/providers/codex/codex-home.js";
import { upstreamHeaders } from "../../src/sidecar/credentials/credential-routes.js";

function jwt(claims: Record<string, unknown>, signature: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "RS256" })}.${part(claims)}.${signature}`;
}

const ACCOUNT = "acct-FAKE-4242";
const ACCESS = jwt(
  { "https://api.openai.com/auth": { chatgpt_account_id: ACCOUNT } },
  "SIG-ACCESS",
);
const REFRESH = "rt_FAKE-refresh-0123456789";
const AUTH_JSON = JSON.stringify({
  auth_mode: "chatgpt",
  OPENAI_API_KEY: null,
  tokens: { id_token: jwt({}, "SIG-ID"), access_token: ACCESS, refresh_token: REFRESH },
  last_refresh: "2026-12-01T00:00:00Z",
});

describe("a ChatGPT login of the Codex CLI", () => {
  it("takes only the access token from Codex's auth.json, or a bare token as it is", () => {
    assert.deepEqual(chatgptAccessToken(`${AUTH_JSON}\n`), { ok: true, accessToken: ACCESS });
    assert.deepEqual(chatgptAccessToken(` ${ACCESS}\n`), { ok: true, accessToken: ACCESS });
  });

  it("refuses an auth.json without a login, saying why and quoting nothing of it", () => {
    const key = chatgptAccessToken(JSON.stringify({ OPENAI_API_KEY: "sk-proj-FAKE-in-file" }));
    assert.match("reason" in key ? key.reason : "no reason", /holds an API key/);
    assert.doesNotMatch(JSON.stringify(key), /sk-proj-FAKE-in-file/);
    assert.equal(chatgptAccessToken("{not json").ok, false);
    assert.equal(chatgptAccessToken('{"tokens": 5}').ok, false);
    assert.equal(chatgptAccessToken("  \n").ok, false);
  });

  it("reads the account id from the access token's claims, and nothing from anything else", () => {
    assert.equal(chatgptAccountId(ACCESS), ACCOUNT);
    assert.equal(chatgptAccountId("sk-proj-not-a-jwt"), undefined);
    assert.equal(chatgptAccountId("a.!!!.c"), undefined);
    assert.equal(chatgptAccountId(jwt({ sub: "x" }, "s")), undefined);
  });

  it("is sent upstream as a bearer token with the token's own account id", () => {
    const headers = upstreamHeaders(
      {
        name: "openai",
        path: "/openai",
        upstream: "https://chatgpt.test/backend-api/codex",
        role: "openai-base-url",
        inject: "chatgpt",
      },
      {
        authorization: "Bearer eyJplaceholder",
        "chatgpt-account-id": "placeholder-account-held-by-bot-bottle",
        originator: "codex_exec",
      },
      ACCESS,
      new URL("https://chatgpt.test/backend-api/codex/responses"),
    );
    assert.equal(headers.authorization, `Bearer ${ACCESS}`);
    assert.equal(headers["chatgpt-account-id"], ACCOUNT);
    assert.equal(headers.originator, "codex_exec");
  });

  it("is read on the host as its access token only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-chatgpt-"));
    try {
      const file = path.join(dir, "auth.json");
      fs.writeFileSync(file, AUTH_JSON);
      const plan = {
        credentials: [
          {
            name: "openai",
            path: "/openai",
            upstream: "https://x.test",
            role: "openai-base-url",
            inject: "chatgpt",
            token_source: { file },
          },
        ],
        git: [],
      } as unknown as BottlePlan;
      const read = readBottleSecrets(plan, {});
      assert.deepEqual(read.secrets.credentials, { openai: ACCESS });
      assert.ok(!JSON.stringify(read).includes(REFRESH));

      fs.writeFileSync(file, JSON.stringify({ OPENAI_API_KEY: "sk-proj-FAKE-in-file" }));
      assert.throws(
        () => readBottleSecrets(plan, {}),
        (e: unknown) =>
          isBottleError(e) &&
          e.code === "token_missing" &&
          /holds an API key/.test(e.message) &&
          !e.message.includes("sk-proj-FAKE-in-file") &&
          /inject: bearer/.test(e.hint ?? ""),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the agent a placeholder auth.json and a model provider that uses it", () => {
    const plan = {
      provider: "codex",
      prompt: null,
      supervise: false,
      credentials: [
        {
          name: "openai",
          path: "/openai",
          upstream: "https://x.test",
          role: "openai-base-url",
          inject: "chatgpt",
          token_source: { file: "/x" },
        },
      ],
      git: [],
    } as unknown as BottlePlan;
    const config = codexConfig(plan);
    assert.match(
      config,
      /base_url = "http:\/\/127\.0\.0\.1:3129\/openai"\nrequires_openai_auth = true\n/,
    );
    assert.doesNotMatch(config, /env_key/);
    const auth = codexHomeFiles(plan).find((f) => f.path === "/home/agent/.codex/auth.json");
    assert.ok(auth);
    assert.equal(auth.mode, 0o600);
    const parsed = JSON.parse(auth.content) as {
      auth_mode: string;
      tokens: { access_token: string; refresh_token: string };
    };
    assert.equal(parsed.auth_mode, "chatgpt");
    assert.equal(parsed.tokens.refresh_token, "placeholder-held-by-bot-bottle");
    // JWT-shaped, with an expiry far ahead so that Codex never refreshes it by itself.
    const claims = JSON.parse(
      Buffer.from(parsed.tokens.access_token.split(".")[1] ?? "", "base64url").toString(),
    ) as { exp: number };
    assert.ok(claims.exp > Date.now() / 1000 + 50 * 365 * 86400);
    assert.equal(
      chatgptAccountId(parsed.tokens.access_token),
      "placeholder-account-held-by-bot-bottle",
    );
  });
});
