/**
 * policy.json has one writer while the sidecar runs: the sidecar. The host changes a running
 * bottle's rules through the control API (an edit the sidecar applies to its live rules and
 * saves), and writes policy.json itself only while the bottle is stopped.
 *
 * The race made deterministic: a relay on the bottle's control socket holds the sidecar's first
 * answer to the host while the agent spends a `once` rule through the real egress gate, then
 * delivers it. With a read-modify-write by the host (GET /policy, change, PUT /policy, write the
 * file) the spent rule came back, live and in policy.json. A real Sidecar; fake tokens only.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseSavedRules } from "../../src/core/contract/saved-rules.js";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { fileRequest } from "../../src/core/requests/request-store.js";
import { bottlePathsIn, writeJsonAtomic } from "../../src/core/state/bottle-state.js";
import { saveLiveRules } from "../../src/backend/docker/control-client.js";
import { applyApproval, previewApproval } from "../../src/operator/approve.js";
import { changePolicy } from "../../src/operator/policy.js";
import type { Sidecar } from "../../src/sidecar/sidecar.js";
import type { FakeBottle } from "../helpers/bottle-state.js";
import { fakeBottle } from "../helpers/bottle-state.js";
import type { Sandbox } from "../helpers/cli.js";
import { makeSandbox } from "../helpers/cli.js";
import type { LoopbackUpstream } from "../helpers/sidecar-harness.js";
import {
  loopbackRule,
  socketRequest as request,
  startLoopbackUpstream,
  startTestSidecar,
  testSidecarConfig,
} from "../helpers/sidecar-harness.js";

const TOKEN = ["fake", "single", "writer", "0123456789abcdef"].join("-");

const MANIFEST = `agents:
  coder:
    bottle: box
    provider: shell
bottles:
  box:
    egress:
      allow: [{host: api.github.com, methods: [GET]}]
    supervise: true
`;

function onceRule(port: number): PlanEgressRule {
  return loopbackRule(port, { request_id: "r-0000aa", once: true });
}

/**
 * A relay in place of the control socket: when armed, the sidecar's first answer is held until
 * `meanwhile` has run, then delivered (the host has not seen it yet).
 */
async function interpose(
  controlSocket: string,
): Promise<{ arm(meanwhile: () => Promise<void>): void; close(): Promise<void> }> {
  const real = `${controlSocket}.real`;
  fs.renameSync(controlSocket, real);
  let armed: (() => Promise<void>) | null = null;
  const server = net.createServer((client) => {
    // Armed per request, not per connection: the host's client may keep a connection alive.
    const upstream = net.connect(real);
    let hook: (() => Promise<void>) | null = null;
    let chain = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      if (armed !== null) {
        hook = armed;
        armed = null;
      }
      upstream.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.on("data", (chunk: Buffer) => {
      const held = hook;
      hook = null;
      chain = chain.then(async () => {
        if (held !== null) await held();
        client.write(chunk);
      });
    });
    upstream.on("end", () => {
      void chain.then(() => client.end());
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(controlSocket, resolve));
  return {
    arm: (meanwhile) => {
      armed = meanwhile;
    },
    close: () =>
      new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

describe("policy.json has one writer while the sidecar runs", () => {
  let box: Sandbox;
  let bottle: FakeBottle;
  let sidecar: Sidecar;
  let upstream: LoopbackUpstream;
  let port: number;
  let egress: string;
  let relay: Awaited<ReturnType<typeof interpose>>;
  const host = () => ({ env: box.env, home: box.home, cwd: box.cwd });
  const policyFile = () => path.join(bottle.dir, "policy.json");
  const saved = () => parseSavedRules(fs.readFileSync(policyFile(), "utf8"), "policy.json");
  const spendOnce = async (): Promise<void> => {
    const spent = await request(egress, "GET", `http://127.0.0.1:${port}/x`);
    assert.equal(spent.status, 200, spent.body);
  };

  before(async () => {
    upstream = await startLoopbackUpstream((_req, res) => res.end("upstream says hi\n"));
    port = upstream.port;
    box = makeSandbox();
    bottle = await fakeBottle(box, MANIFEST, "coder", "running");
    writeJsonAtomic(policyFile(), {
      allow: [...bottle.plan.egress.allow, onceRule(port)],
      deny: bottle.plan.egress.deny,
    });
    let control: string;
    ({ sidecar, egress, control } = await startTestSidecar(
      testSidecarConfig(bottle.identity, bottle.dir, path.join(box.home, "sockets"), {
        egress: bottle.plan.egress,
      }),
      { api: TOKEN },
    ));
    relay = await interpose(control);
  });

  after(async () => {
    await relay.close();
    await sidecar.stop();
    await upstream.close();
    fs.rmSync(path.dirname(box.cwd), { recursive: true, force: true });
  });

  it("a once rule spent while an approval lands stays spent, live and in policy.json", async () => {
    const filed = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      { kind: "egress", egress: { host: "two.test", ports: null, methods: null, paths: null } },
      "needs two.test",
    ).request;
    const preview = await previewApproval(host(), filed.id, {}, "cli:test");
    relay.arm(spendOnce);
    const result = await applyApproval(host(), preview);
    assert.equal(result.effect, "live");
    const live = await request(egress, "GET", `http://127.0.0.1:${port}/x`);
    assert.equal(live.status, 403, "the spent once rule lets nothing more through");
    assert.equal(
      saved().allow.some((r) => r.once),
      false,
      "policy.json does not bring the spent rule back",
    );
    assert.ok(
      saved().allow.some((r) => r.host === "two.test"),
      "the approval is saved",
    );
  });

  it("a policy change while a once rule is spent does not revive it", async () => {
    // A fresh once rule, added the operator's way.
    await changePolicy(
      host(),
      bottle.identity,
      {
        kind: "allow",
        host: "127.0.0.1",
        ports: [port],
        tls: "intercept",
        internal: true,
        once: true,
      },
      "cli:test",
    );
    relay.arm(spendOnce);
    await changePolicy(host(), bottle.identity, { kind: "deny", host: "three.test" }, "cli:test");
    assert.equal(
      saved().allow.some((r) => r.once),
      false,
    );
    assert.ok(saved().deny.includes("three.test"));
    const live = await request(egress, "GET", `http://127.0.0.1:${port}/x`);
    assert.equal(live.status, 403);
  });

  it("saving the rules at stop does not revive a once rule spent meanwhile", async () => {
    await changePolicy(
      host(),
      bottle.identity,
      {
        kind: "allow",
        host: "127.0.0.1",
        ports: [port],
        tls: "intercept",
        internal: true,
        once: true,
      },
      "cli:test",
    );
    relay.arm(spendOnce);
    await saveLiveRules(bottlePathsIn(bottle.dir));
    assert.equal(
      saved().allow.some((r) => r.once),
      false,
    );
  });
});

describe("a stopped bottle's policy", () => {
  it("is changed in policy.json by the host and in force when the sidecar starts again", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const host = { env: box.env, home: box.home, cwd: box.cwd };
    const filed = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      { kind: "egress", egress: { host: "four.test", ports: null, methods: null, paths: null } },
      "needs four.test",
    ).request;
    const result = await applyApproval(host, await previewApproval(host, filed.id, {}, "cli:test"));
    assert.equal(result.effect, "on-resume");
    await changePolicy(host, bottle.identity, { kind: "deny", host: "five.test" }, "cli:test");
    const { sidecar, control } = await startTestSidecar(
      testSidecarConfig(bottle.identity, bottle.dir, path.join(box.home, "sockets"), {
        egress: bottle.plan.egress,
      }),
    );
    try {
      const live = JSON.parse((await request(control, "GET", "/policy")).body) as {
        allow: { host: string; request_id: string | null }[];
        deny: string[];
      };
      assert.ok(live.allow.some((r) => r.host === "four.test" && r.request_id === filed.id));
      assert.ok(
        live.allow.some((r) => r.host === "api.github.com"),
        "the manifest's rule stays",
      );
      assert.ok(live.deny.includes("five.test"));
    } finally {
      await sidecar.stop();
      fs.rmSync(path.dirname(box.cwd), { recursive: true, force: true });
    }
  });
});
