/**
 * Issue 18, density: Docker's default address pools hold about 31 bridge networks, and the 29th
 * bottle of `bench:density` could not start ("could not find an available, non-overlapping IPv4
 * address pool"). A bottle's network now takes a /27 of BOT_BOTTLE_SUBNET_POOL. Here the range is
 * two /27s, one already held by another network: the first bottle takes the free one whichever it
 * tries first, the second is refused with a clear error, and nothing of it is left.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { docker, dockerSandbox, shellManifest, startDetached } from "../helpers/docker.js";

const POOL = "10.213.254.0/26";

describe("a bottle's network subnet", () => {
  const box = dockerSandbox(shellManifest({ runtime: "runc" }));
  box.env["BOT_BOTTLE_SUBNET_POOL"] = POOL;
  const blocker = `bb-subnet-blocker-${String(process.pid)}`;
  const started: string[] = [];

  after(async () => {
    for (const identity of started) await cliProcess(["stop", identity], box);
    await docker
      .getNetwork(blocker)
      .remove()
      .catch(() => undefined);
  });

  it("takes a free /27 of the range past one another network holds, and refuses when none is free", async () => {
    await docker.createNetwork({
      Name: blocker,
      IPAM: { Driver: "default", Config: [{ Subnet: "10.213.254.0/27" }] },
    });
    const identity = await startDetached(box);
    started.push(identity);
    const network = await docker.getNetwork(`bot-bottle-${identity}-net`).inspect();
    assert.deepEqual(
      (network.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet),
      ["10.213.254.32/27"],
    );

    const bottleNets = async (): Promise<string[]> =>
      (await docker.listNetworks())
        .map((n) => n.Name)
        .filter((name) => name.startsWith("bot-bottle-"))
        .sort();
    const before = await bottleNets();
    const second = await cliProcess(["start", "sh", "--yes", "--detach"], box, {}, 300_000);
    assert.notEqual(second.code, 0, second.stdout);
    assert.match(second.stderr, /No free subnet for the bottle's network in 10\.213\.254\.0\/26/);
    assert.match(second.stderr, /BOT_BOTTLE_SUBNET_POOL/);
    assert.deepEqual(await bottleNets(), before, "the refused start left a network behind");
  });
});
