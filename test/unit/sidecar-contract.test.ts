// The host↔sidecar contract over a real sidecar's real control socket: a sidecar without its
// secrets refuses every gate connection (503); malformed or partial hand-overs are refused (400)
// and change nothing; a malformed policy.json stops the start. Fake tokens only.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { SidecarConfig } from "../../src/sidecar/sidecar-config.js";
import { Sidecar, WAITING_FOR_SECRETS } from "../../src/sidecar/sidecar.js";
import { ensureBottleCa } from "../../src/core/tls/bottle-ca.js";
import {
  socketRequest as request,
  startTestSidecar,
  testSidecarConfig,
} from "../helpers/sidecar-harness.js";

const TOKEN = ["fake", "contract", "token", "0123456789abcdef"].join("-");

function makeConfig(root: string): SidecarConfig {
  return testSidecarConfig("box-contract", root, path.join(root, "s"), {
    credentials: [
      { name: "api", path: "/api", upstream: "https://api.test", role: null, inject: "bearer" },
    ],
    supervise: false,
  });
}

describe("the sidecar's control contract", () => {
  let root: string;
  let sidecar: Sidecar;
  let control: string;
  let egress: string;
  let credentials: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sc-"));
    ({ sidecar, control, egress } = await startTestSidecar(makeConfig(root)));
    credentials = path.join(root, "s", "credentials.sock");
  });

  after(async () => {
    await sidecar.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("refuses every gate connection and says so while it has no secrets", async () => {
    const health = JSON.parse((await request(control, "GET", "/health")).body) as {
      ok: boolean;
      state: string;
    };
    assert.deepEqual([health.ok, health.state], [false, "degraded: waiting for secrets"]);
    for (const socket of [egress, credentials]) {
      const reply = await request(socket, "GET", "/api/x");
      assert.equal(reply.status, 503);
      assert.equal(reply.body.trim(), WAITING_FOR_SECRETS);
    }
  });

  for (const [what, body] of [
    ["not JSON", "{credentials:"],
    ["an array", "[]"],
    ["git missing (partial)", JSON.stringify({ credentials: { api: TOKEN } })],
    ["a token that is not a string", JSON.stringify({ credentials: { api: 7 }, git: {} })],
    ["an empty token", JSON.stringify({ credentials: { api: "" }, git: {} })],
    ["an unknown field", JSON.stringify({ credentials: { api: TOKEN }, git: {}, extra: true })],
    [
      "a git entry with an unknown field",
      JSON.stringify({ credentials: { api: TOKEN }, git: { app: { key: TOKEN } } }),
    ],
  ] as const) {
    it(`refuses secrets that are ${what}: 400, nothing applied, the token never echoed`, async () => {
      const reply = await request(control, "PUT", "/secrets", body);
      assert.equal(reply.status, 400);
      assert.match(reply.body, /nothing changed/);
      assert.ok(!reply.body.includes(TOKEN));
      assert.deepEqual(sidecar.secretNames(), []);
      assert.equal((await request(egress, "GET", "http://a.test/")).status, 503);
    });
  }

  it("opens the gates once a whole hand-over arrives", async () => {
    const reply = await request(
      control,
      "PUT",
      "/secrets",
      JSON.stringify({ credentials: { api: TOKEN }, git: {} }),
    );
    assert.equal(reply.status, 200);
    assert.deepEqual(sidecar.secretNames(), ["api"]);
    const health = JSON.parse((await request(control, "GET", "/health")).body) as {
      state: string;
    };
    assert.equal(health.state, "ready");
    // Past the guard: the egress proxy itself answers (a denied host), not the 503.
    assert.equal((await request(egress, "GET", "http://a.test/")).status, 403);
  });

  for (const [what, body] of [
    ["not JSON", "nope"],
    ["deny missing (partial)", JSON.stringify({ allow: [] })],
    [
      "a rule without ports",
      JSON.stringify({
        allow: [
          {
            host: "x.test",
            methods: null,
            paths: null,
            tls: "intercept",
            internal: false,
            source: "m",
          },
        ],
        deny: [],
      }),
    ],
    ["a deny entry that is a number", JSON.stringify({ allow: [], deny: [1] })],
  ] as const) {
    it(`refuses egress rules that are ${what}: 400, the rules in force unchanged`, async () => {
      const before = (await request(control, "GET", "/policy")).body;
      // A replacing edit whose rules are `body` (spliced as text, so "not JSON" stays not JSON).
      const reply = await request(
        control,
        "POST",
        "/policy/edit",
        `{"op":"replace","rules":${body}}`,
      );
      assert.equal(reply.status, 400);
      assert.match(reply.body, /nothing changed/);
      assert.equal((await request(control, "GET", "/policy")).body, before);
    });
  }

  it("refuses an edit that cannot apply with its BottleError code, the rules unchanged", async () => {
    const before = (await request(control, "GET", "/policy")).body;
    const reply = await request(
      control,
      "POST",
      "/policy/edit",
      JSON.stringify({ op: "change", change: { kind: "remove", host: "nothing-here.test" } }),
    );
    assert.equal(reply.status, 400);
    assert.equal((JSON.parse(reply.body) as { code: string }).code, "usage");
    assert.equal((await request(control, "GET", "/policy")).body, before);
  });
});

describe("a sidecar whose saved policy is malformed", () => {
  it("does not start (fail closed), naming the file", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sc-"));
    try {
      await ensureBottleCa(root, "box-contract");
      fs.writeFileSync(path.join(root, "policy.json"), JSON.stringify({ allow: "everything" }));
      assert.throws(() => new Sidecar(makeConfig(root)), /policy\.json is malformed: allow/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
