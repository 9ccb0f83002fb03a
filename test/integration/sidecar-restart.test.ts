/**
 * Issue 12 item 3, as observed: after `docker restart` of the sidecar, a request carrying the
 * bottle's own secret went from 403 to 200 and the credential route answered "not handed over
 * yet" forever. Now a sidecar without its secrets refuses everything (503), `bottle list` says
 * "degraded: waiting for secrets", and the bottle's keeper hands them over again by itself.
 * The keeper is paused (SIGSTOP) across the restart so the closed window is observed, not raced.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  shellManifest,
  startDetached,
  startUpstream,
  waitFor,
} from "../helpers/docker.js";

// Built from pieces so no detector trips on this file.
const TOKEN = ["fake", "restart", "token", "0123456789abcdef0123456789"].join("-");

async function health(box: Sandbox, identity: string): Promise<string | undefined> {
  const result = await cliProcess(["list", "--json"], box);
  return (JSON.parse(result.stdout) as { identity: string; health: string }[]).find(
    (b) => b.identity === identity,
  )?.health;
}

describe("a sidecar restarted outside the CLI", () => {
  let box: Sandbox;
  let identity: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let keeperPid: number;

  const leak = (): Promise<string> =>
    bottleExec(
      box,
      identity,
      `curl -sS -o /dev/null -w '%{http_code}' -H 'x-note: ${TOKEN}' http://allowed.test/leak`,
    ).then((r) => r.stdout.trim());

  before(async () => {
    box = dockerSandbox(
      `${shellManifest({ runtime: "runc" })}    credentials:\n      - {name: api, path: /api, upstream: "https://api.fake.test", token: {env: BB_RESTART_TOKEN}}\n`,
    );
    box.env["BB_RESTART_TOKEN"] = TOKEN;
    identity = await startDetached(box);
    upstream = await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]);
    const state = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
    keeperPid = Number(fs.readFileSync(path.join(state, "keeper.pid"), "utf8"));
  });

  after(async () => {
    try {
      process.kill(keeperPid, "SIGCONT");
    } catch {
      // Already gone.
    }
    await upstream.remove();
    await cliProcess(["stop", identity], box);
  });

  it("refuses everything until the keeper hands the secrets over again, then checks them", async () => {
    assert.equal(await leak(), "403", "the own-secret check holds before the restart");

    process.kill(keeperPid, "SIGSTOP");
    const [sidecar] = await docker.listContainers({
      filters: { label: [`bot-bottle.identity=${identity}`, "bot-bottle.role=sidecar"] },
    });
    assert.ok(sidecar !== undefined);
    await docker.getContainer(sidecar.Id).restart({ t: 1 });
    assert.equal(
      await waitFor("the restarted sidecar to answer health", async () => {
        const h = await health(box, identity);
        return h === "unhealthy" ? undefined : h;
      }),
      "degraded: waiting for secrets",
    );

    // Before the fix: 200 (own-secret checks gone).
    assert.equal(await leak(), "503");
    const plain = await bottleExec(
      box,
      identity,
      "curl -sS -w '\\n%{http_code}' http://allowed.test/",
    );
    assert.match(plain.stdout, /waiting for its secrets[^]*\n503$/);
    const cred = await bottleExec(
      box,
      identity,
      "curl -sS -w '\\n%{http_code}' http://127.0.0.1:3129/api/x",
    );
    assert.match(cred.stdout, /waiting for its secrets[^]*\n503$/);

    process.kill(keeperPid, "SIGCONT");
    await waitFor(
      "the keeper to hand the secrets over again",
      async () => ((await health(box, identity)) === "healthy" ? true : undefined),
      20_000,
    );
    assert.equal(await leak(), "403", "the own-secret check is back");
    const keeperLog = fs.readFileSync(
      path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity, "keeper.log"),
      "utf8",
    );
    assert.match(keeperLog, /handed the secrets over again/);
    assert.ok(!keeperLog.includes(TOKEN));
  });

  it("stops its keeper when the bottle stops", async () => {
    await cliProcess(["stop", identity], box);
    await waitFor("the keeper to exit", () => {
      try {
        process.kill(keeperPid, 0);
        return Promise.resolve(undefined);
      } catch {
        return Promise.resolve(true);
      }
    });
  });
});
