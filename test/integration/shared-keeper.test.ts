/**
 * One secret keeper per state home, with real bottles: two detached bottles of one home are kept
 * by the same keeper process, and after `docker restart` of both their sidecars each gets its own
 * secrets back from it (health back to ready, the own-secret check back on). Stopping both ends
 * the keeper.
 */
import { processAlive } from "../../src/core/host/process-alive.js";
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
const TOKEN = ["fake", "shared", "keeper", "token", "0123456789abcdef0123"].join("-");

async function health(box: Sandbox): Promise<Map<string, string>> {
  const result = await cliProcess(["list", "--json"], box);
  const rows = JSON.parse(result.stdout) as { identity: string; health: string }[];
  return new Map(rows.map((b) => [b.identity, b.health]));
}

describe("two bottles of one state home", () => {
  let box: Sandbox;
  const identities: string[] = [];
  const upstreams: Awaited<ReturnType<typeof startUpstream>>[] = [];
  const stateFile = (identity: string, file: string): string =>
    path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity, file);
  const keeperPid = (identity: string): number =>
    Number(fs.readFileSync(stateFile(identity, "keeper.pid"), "utf8"));
  const leak = (identity: string): Promise<string> =>
    bottleExec(
      box,
      identity,
      `curl -sS -o /dev/null -w '%{http_code}' -H 'x-note: ${TOKEN}' http://allowed.test/leak`,
    ).then((r) => r.stdout.trim());

  before(async () => {
    box = dockerSandbox(
      `${shellManifest({ runtime: "runc" })}    credentials:\n      - {name: api, path: /api, upstream: "https://api.fake.test", token: {env: BB_SHARED_TOKEN}}\n`,
    );
    box.env["BB_SHARED_TOKEN"] = TOKEN;
    identities.push(await startDetached(box));
    identities.push(await startDetached(box));
    for (const identity of identities)
      upstreams.push(await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]));
  });

  after(async () => {
    for (const upstream of upstreams) await upstream.remove();
    for (const identity of identities) await cliProcess(["stop", identity], box);
  });

  it("share one keeper, which hands each sidecar its secrets after a restart", async () => {
    const [a, b] = identities as [string, string];
    const keeper = keeperPid(a);
    assert.equal(keeperPid(b), keeper, "both bottles name the same keeper");
    assert.ok(processAlive(keeper));
    for (const identity of identities) assert.equal(await leak(identity), "403");

    const sidecars = await docker.listContainers({
      filters: {
        label: ["bot-bottle.role=sidecar"],
        name: identities.map((i) => `bot-bottle-${i}-sidecar`),
      },
    });
    assert.equal(sidecars.length, 2);
    await Promise.all(sidecars.map((s) => docker.getContainer(s.Id).restart({ t: 1 })));
    await waitFor(
      "both sidecars to hold their secrets again",
      async () => {
        const now = await health(box);
        return identities.every((i) => now.get(i) === "healthy") ? true : undefined;
      },
      60_000,
    );
    for (const identity of identities) {
      assert.equal(await leak(identity), "403", `${identity}: the own-secret check is back`);
      const log = fs.readFileSync(stateFile(identity, "keeper.log"), "utf8");
      assert.match(log, /handed the secrets over again/);
      assert.ok(!log.includes(TOKEN));
    }
    assert.equal(keeperPid(a), keeper, "still the same keeper");
    const homeLog = fs.readFileSync(
      path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "keeper.log"),
      "utf8",
    );
    assert.ok(!homeLog.includes(TOKEN));
  });

  it("end their keeper when both stop", async () => {
    const keeper = keeperPid(identities[0] ?? "");
    await cliProcess(["stop", identities[0] ?? ""], box);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(processAlive(keeper), "it keeps the other bottle");
    await cliProcess(["stop", identities[1] ?? ""], box);
    await waitFor("the keeper to exit", () =>
      Promise.resolve(processAlive(keeper) ? undefined : true),
    );
  });
});
