/**
 * Issue 18, warm pool, with real bottles: `bottle pool sh --size 2` keeps two bottles up and idle;
 * from inside a pooled bottle, before it is taken, every gate refuses and no copy of the bottle's
 * token is anywhere (agent env and files, sidecar env and files, state home); `bottle start`
 * takes the oldest, which then works and holds its secret; the pool refills in the background;
 * two concurrent starts get two different bottles; a pooled bottle whose agent died is set aside
 * and removed, never handed out; cleanup keeps live pooled bottles and stop removes one whole;
 * `--size 0` leaves nothing behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { botBottleHome } from "../../src/core/host/paths.js";
import { homeTag } from "../../src/core/plan/layout.js";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  execAs,
  shellManifest,
  startUpstream,
  waitFor,
} from "../helpers/docker.js";

// Built from pieces so no detector trips on this file.
const TOKEN = ["fake", "pool", "token", "0123456789abcdef0123456789"].join("-");

describe("a warm pool", () => {
  let box: Sandbox;
  let home: string;
  const taken: string[] = [];
  const upstreams: { remove(): Promise<void> }[] = [];

  const ready = (): string[] => {
    try {
      return fs
        .readdirSync(path.join(home, "pool", "sh"))
        .filter((n) => n.endsWith(".ready.json"))
        .map((n) => n.slice(0, -".ready.json".length));
    } catch {
      return [];
    }
  };
  const oldestReady = (): string => {
    const entries = ready().map((identity) => ({
      identity,
      at: (
        JSON.parse(
          fs.readFileSync(path.join(home, "pool", "sh", `${identity}.ready.json`), "utf8"),
        ) as { created_at: string }
      ).created_at,
    }));
    entries.sort((a, b) => (a.at < b.at ? -1 : 1));
    return entries[0]?.identity ?? "";
  };
  const start = async (): Promise<{ identity: string; stderr: string }> => {
    const result = await cliProcess(["start", "sh", "--yes", "--detach"], box, {}, 600_000);
    assert.equal(result.code, 0, result.stderr);
    const identity = result.stdout.trim();
    taken.push(identity);
    return { identity, stderr: result.stderr };
  };
  const refilled = (exclude: readonly string[]) =>
    waitFor(
      "the pool to refill to 2",
      () => {
        const now = ready();
        return Promise.resolve(
          now.length === 2 && !fs.existsSync(path.join(home, "pool", "sh", "refill.lock"))
            ? now.filter((i) => !exclude.includes(i))
            : undefined,
        );
      },
      240_000,
    );
  const sh = (identity: string, command: string): Promise<string> =>
    bottleExec(box, identity, command).then((r) => r.stdout + r.stderr);
  const containerOf = async (identity: string, role: string): Promise<string> => {
    const [found] = await docker.listContainers({
      all: true,
      filters: { label: [`bot-bottle.identity=${identity}`, `bot-bottle.role=${role}`] },
    });
    assert.ok(found !== undefined, `${identity} has a ${role}`);
    return found.Id;
  };

  before(async () => {
    box = dockerSandbox(
      `${shellManifest()}    credentials:\n      - {name: api, path: /api, upstream: "https://api.fake.test", token: {env: BB_POOL_TOKEN}}\n`,
    );
    box.env["BB_POOL_TOKEN"] = TOKEN;
    home = botBottleHome({ env: box.env, home: box.home, cwd: box.cwd });
    const filled = await cliProcess(["pool", "sh", "--size", "2"], box, {}, 900_000);
    assert.equal(filled.code, 0, filled.stderr);
    assert.equal(ready().length, 2, filled.stderr);
  });

  after(async () => {
    await cliProcess(["pool", "sh", "--size", "0"], box, {}, 600_000);
    for (const identity of taken) await cliProcess(["stop", identity], box, {}, 120_000);
    for (const upstream of upstreams) await upstream.remove();
  });

  it("holds no secret until taken, then works and holds it", async () => {
    const pooled = oldestReady();
    const list = JSON.parse((await cliProcess(["list", "--json"], box)).stdout) as {
      identity: string;
      status: string;
      health: string;
    }[];
    for (const identity of ready())
      assert.deepEqual(
        list.filter((b) => b.identity === identity).map((b) => [b.status, b.health]),
        [["pooled", "idle"]],
      );
    upstreams.push(await startUpstream(`bot-bottle-${pooled}-net`, ["allowed.test"]));
    const code = (command: string): Promise<string> =>
      sh(pooled, `${command} -o /dev/null -w '%{http_code}'`).then((out) => out.trim());
    const credential = "curl -sS http://127.0.0.1:3129/api/v1/messages";
    const egress = "curl -sS http://allowed.test/hello";

    // Before: every gate refuses, and no copy of the token is anywhere.
    for (const command of [credential, egress]) {
      assert.equal(await code(command), "503", command);
      assert.match(await sh(pooled, command), /waiting for its secrets/, command);
    }
    const agentSide = await sh(
      pooled,
      `env; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; grep -rs -- '${TOKEN}' /home /workspace /etc /tmp /run; echo scanned`,
    );
    assert.match(agentSide, /scanned/);
    assert.ok(!agentSide.includes(TOKEN), "the agent's env or files hold the token");
    const sidecar = await containerOf(pooled, "sidecar");
    assert.ok(
      !JSON.stringify((await docker.getContainer(sidecar).inspect()).Config.Env).includes(TOKEN),
    );
    // As the sidecar's own user: root there has no capability to read its process's env.
    const sidecarSide = await execAs(
      sidecar,
      (await docker.getContainer(sidecar).inspect()).Config.User,
      `cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; grep -rs -- '${TOKEN}' /tmp /run /var/lib/bot-bottle; echo scanned`,
    );
    assert.match(sidecarSide, /scanned/);
    assert.ok(!sidecarSide.includes(TOKEN), "the sidecar's env or files hold the token");
    // grep exits 1 when it finds nothing (2 on an error, which fails too).
    const onHost = spawnSync("grep", ["-rl", "--", TOKEN, home], { encoding: "utf8" });
    assert.equal(onHost.status, 1, `a file of the state home holds the token: ${onHost.stdout}`);

    // Taken: the oldest pooled bottle, now running with its secret.
    const { identity } = await start();
    assert.equal(identity, pooled);
    assert.equal(await code(egress), "200");
    assert.match(await sh(pooled, egress), /upstream saw GET allowed.test\/hello/);
    const routed = await code(credential);
    assert.ok(
      routed !== "503" && routed !== "000",
      `the credential route tries its upstream: ${routed}`,
    );
    const leak = await sh(
      pooled,
      `curl -sS -o /dev/null -w '%{http_code}' -H 'x-note: ${TOKEN}' http://allowed.test/`,
    );
    assert.equal(
      leak.trim(),
      "403",
      "the sidecar holds the token: its own-secret check refuses it",
    );
    const now = JSON.parse((await cliProcess(["list", "--json"], box)).stdout) as {
      identity: string;
      status: string;
      health: string;
    }[];
    assert.deepEqual(
      now.filter((b) => b.identity === pooled).map((b) => [b.status, b.health]),
      [["running", "healthy"]],
    );
  });

  it("refills in the background, and two concurrent starts get two different bottles", async () => {
    const fresh = await refilled(taken);
    assert.ok(fresh.length >= 1, "a new bottle was pooled");
    const pool = ready();
    const [a, b] = await Promise.all([start(), start()]);
    assert.notEqual(a.identity, b.identity);
    assert.ok(
      pool.includes(a.identity) && pool.includes(b.identity),
      `${a.identity} ${b.identity} from ${pool.join(",")}`,
    );
  });

  it("never hands out a pooled bottle whose agent died; it is removed", async () => {
    await refilled(taken);
    const dead = oldestReady();
    await docker.getContainer(await containerOf(dead, "agent")).kill();
    const { identity, stderr } = await start();
    assert.notEqual(identity, dead);
    assert.match(stderr, new RegExp(`set aside ${dead}: a container of it is not running`));
    await waitFor(
      "the dead pooled bottle to be removed",
      async () => {
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`bot-bottle.identity=${dead}`] },
        });
        return left.length === 0 && !fs.existsSync(path.join(home, "state", dead))
          ? true
          : undefined;
      },
      240_000,
    );
  });

  it("is kept by cleanup while alive; stop removes a pooled bottle whole", async () => {
    await refilled(taken);
    const pooled = ready();
    const cleaned = await cliProcess(["cleanup", "--yes"], box, {}, 120_000);
    assert.equal(cleaned.code, 0, cleaned.stderr);
    assert.deepEqual(ready().sort(), [...pooled].sort(), cleaned.stderr);
    const [victim] = pooled;
    assert.ok(victim !== undefined);
    const stopped = await cliProcess(["stop", victim], box, {}, 120_000);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /removed/);
    assert.ok(!ready().includes(victim));
    assert.ok(!fs.existsSync(path.join(home, "state", victim)));
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`bot-bottle.identity=${victim}`] },
    });
    assert.deepEqual(left, []);
  });

  it("drains to nothing: no pooled bottle, object, state or lock is left", async () => {
    const pooled = ready();
    const drained = await cliProcess(["pool", "sh", "--size", "0"], box, {}, 600_000);
    assert.equal(drained.code, 0, drained.stderr);
    assert.deepEqual(ready(), []);
    const names = fs.readdirSync(path.join(home, "pool", "sh"));
    assert.deepEqual(names, ["target.json"]);
    const tag = homeTag(home);
    const objects = await docker.listContainers({
      all: true,
      filters: { label: [`bot-bottle.home=${tag}`] },
    });
    const networks = await docker.listNetworks({ filters: { label: [`bot-bottle.home=${tag}`] } });
    const { Volumes: volumes } = await docker.listVolumes({
      filters: { label: [`bot-bottle.home=${tag}`] },
    });
    const left = [
      ...objects.map((c) => c.Labels["bot-bottle.identity"] ?? ""),
      ...networks.map((n) => n.Labels?.["bot-bottle.identity"] ?? ""),
      ...volumes.map((v) => (v.Labels as Record<string, string> | null)?.["bot-bottle.identity"]),
    ].filter((i) => i === undefined || !taken.includes(i));
    assert.deepEqual(left, []);
    for (const identity of pooled)
      assert.ok(!fs.existsSync(path.join(home, "state", identity)), identity);
    const list = JSON.parse((await cliProcess(["list", "--json"], box)).stdout) as {
      status: string;
    }[];
    assert.ok(!list.some((b) => b.status === "pooled"));
  });
});
