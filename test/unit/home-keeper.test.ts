/**
 * One secret keeper per state home (backend/docker/home-keeper.ts), with real processes: starts
 * made at the same moment by separate processes end with exactly one keeper process, which every
 * one of them finds; its socket is 0600; the secrets are never in a keeper's argv or environment;
 * it lets a bottle go when its metadata says stopped and exits when it keeps none; a killed keeper
 * is replaced by the next start, which names the running bottles that lost theirs.
 */
import { processAlive } from "../../src/core/host/process-alive.js";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { bottlesWithoutKeeper } from "../../src/backend/docker/bottle-keeper.js";
import { keeperSocketPath } from "../../src/backend/docker/keeper-protocol.js";
import type { KeeperFiles } from "../../src/backend/docker/keeper-spawn.js";
import { keepBottle } from "../../src/backend/docker/keeper-spawn.js";
import { fakeBottle } from "../helpers/bottle-state.js";
import { makeSandbox } from "../helpers/cli.js";

// Built from pieces so no detector trips on this file.
const TOKEN = ["fake", "home", "keeper", "token", "0123456789abcdef"].join("-");
const SECRETS = { credentials: { api: TOKEN }, git: {} };
const spawnUrl = pathToFileURL(
  new URL("../../src/backend/docker/keeper-spawn.js", import.meta.url).pathname,
).href;

const homes: string[] = [];
after(() => {
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});

async function waitUntil(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Pids of this home's keeper processes (keeper-main.js with its socket), from /proc. */
function keeperProcesses(socketPath: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const args = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        return args.some((a) => a.endsWith("keeper-main.js")) && args.includes(socketPath);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** A home with `count` bottles' state (metadata `running`, no sidecar: nothing to hand over). */
function homeWith(count: number): { home: string; bottles: KeeperFiles[] } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "bb-home-keeper-"));
  homes.push(home);
  const bottles = Array.from({ length: count }, (_, i) => {
    const dir = path.join(home, "state", `b${String(i)}`);
    fs.mkdirSync(dir, { recursive: true });
    const files: KeeperFiles = {
      identity: `b${String(i)}`,
      controlSocket: path.join(dir, "control.sock"),
      metadataFile: path.join(dir, "metadata.json"),
      logFile: path.join(dir, "keeper.log"),
      pidFile: path.join(dir, "keeper.pid"),
    };
    fs.writeFileSync(files.metadataFile, JSON.stringify({ status: "running" }));
    return files;
  });
  return { home, bottles };
}

/** Starts that many processes, each ready to hand one bottle over, then lets them go at once. */
async function concurrentStarts(home: string, bottles: KeeperFiles[]): Promise<number[]> {
  const script = `import { keepBottle } from ${JSON.stringify(spawnUrl)};
let input = ""; process.stdout.write("armed\\n");
for await (const c of process.stdin) input += c;
const { home, files, secrets } = JSON.parse(input);
const kept = await keepBottle(home, files, secrets);
process.stdout.write(JSON.stringify(kept) + "\\n");`;
  const children = bottles.map(() =>
    spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
        child.on("close", (code) => {
          if (code === 0) resolve(out);
          else reject(new Error(`a start exited with ${String(code)}`));
        });
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.stdout.once("data", () => {
            resolve();
          });
        }),
    ),
  );
  children.forEach((child, i) => {
    child.stdin.end(JSON.stringify({ home, files: bottles[i], secrets: SECRETS }));
  });
  return (await Promise.all(outputs)).map((out) => {
    const last = out.trim().split("\n").pop() ?? "";
    return (JSON.parse(last) as { pid: number }).pid;
  });
}

describe("the state home's secret keeper", () => {
  it("is one process for starts made at the same moment, found by each, on a 0600 socket", async () => {
    const { home, bottles } = homeWith(4);
    const socketPath = keeperSocketPath(home);
    const pids = await concurrentStarts(home, bottles);
    const [keeper] = pids;
    assert.ok(keeper !== undefined && processAlive(keeper));
    assert.deepEqual(new Set(pids), new Set([keeper]), "every start names the same keeper");
    // The processes that handed their bottle on exit; one keeper remains.
    await waitUntil("one keeper process", () => keeperProcesses(socketPath).length === 1);
    assert.deepEqual(keeperProcesses(socketPath), [keeper]);
    for (const b of bottles)
      assert.equal(Number(fs.readFileSync(b.pidFile, "utf8")), keeper, `${b.identity}'s pid file`);

    const stat = fs.statSync(socketPath);
    assert.ok(stat.isSocket());
    assert.equal(stat.mode & 0o777, 0o600);

    // The secrets reached it over a pipe or the socket: not in its argv or environment.
    assert.ok(!fs.readFileSync(`/proc/${String(keeper)}/cmdline`, "utf8").includes(TOKEN));
    assert.ok(!fs.readFileSync(`/proc/${String(keeper)}/environ`, "utf8").includes(TOKEN));
    const logs = [path.join(home, "keeper.log"), ...bottles.map((b) => b.logFile)];
    for (const log of logs.filter((l) => fs.existsSync(l)))
      assert.ok(!fs.readFileSync(log, "utf8").includes(TOKEN), log);

    // A later start finds it.
    assert.deepEqual(await keepBottle(home, bottles[0] as KeeperFiles, SECRETS), {
      keeper: "found",
      pid: keeper,
    });

    // It lets each bottle go when its metadata says stopped, and exits once it keeps none.
    for (const b of bottles.slice(1))
      fs.writeFileSync(b.metadataFile, JSON.stringify({ status: "stopped" }));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(processAlive(keeper), "it still keeps one bottle");
    fs.writeFileSync(
      (bottles[0] as KeeperFiles).metadataFile,
      JSON.stringify({ status: "stopped" }),
    );
    await waitUntil("the keeper to exit", () => !processAlive(keeper));
    assert.ok(!fs.existsSync(socketPath), "its socket is gone");
  });

  it("refuses a malformed registration without echoing it", async () => {
    const { home, bottles } = homeWith(1);
    const socketPath = keeperSocketPath(home);
    const kept = await keepBottle(home, bottles[0] as KeeperFiles, SECRETS);
    assert.equal(kept.keeper, "started");
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(socketPath);
      let out = "";
      socket.setEncoding("utf8").on("data", (c: string) => (out += c));
      socket.on("end", () => {
        resolve(out);
      });
      socket.on("error", reject);
      socket.write(
        `${JSON.stringify({ identity: "x", secrets: { credentials: { a: TOKEN } } })}\n`,
      );
    });
    assert.deepEqual(JSON.parse(answer), { ok: false, reason: "malformed registration" });
    assert.ok(!fs.readFileSync(path.join(home, "keeper.log"), "utf8").includes(TOKEN));
    fs.writeFileSync(
      (bottles[0] as KeeperFiles).metadataFile,
      JSON.stringify({ status: "stopped" }),
    );
    await waitUntil("the keeper to exit", () => kept.pid === undefined || !processAlive(kept.pid));
  });

  it("is replaced by the next start when killed, over its stale socket", async () => {
    const { home, bottles } = homeWith(2);
    const [first, second] = bottles as [KeeperFiles, KeeperFiles];
    const killed = await keepBottle(home, first, SECRETS);
    assert.ok(killed.pid !== undefined);
    process.kill(killed.pid, "SIGKILL");
    await waitUntil(
      "the keeper to die",
      () => killed.pid === undefined || !processAlive(killed.pid),
    );
    assert.ok(fs.existsSync(keeperSocketPath(home)), "a killed keeper leaves its socket file");
    const next = await keepBottle(home, second, SECRETS);
    assert.equal(next.keeper, "started");
    assert.ok(next.pid !== undefined && next.pid !== killed.pid && processAlive(next.pid));
    assert.equal(await keepBottle(home, second, SECRETS).then((k) => k.pid), next.pid);
    fs.writeFileSync(second.metadataFile, JSON.stringify({ status: "stopped" }));
    fs.writeFileSync(first.metadataFile, JSON.stringify({ status: "stopped" }));
    await waitUntil("the keeper to exit", () => next.pid === undefined || !processAlive(next.pid));
  });

  it("names the running bottles whose keeper is gone", async () => {
    const box = makeSandbox();
    homes.push(path.dirname(box.home));
    const manifest =
      "agents:\n  sh:\n    bottle: box\n    provider: shell\nbottles:\n  box:\n    runtime: runc\n";
    const lost = await fakeBottle(box, manifest, "sh", "running");
    const kept = await fakeBottle(box, manifest, "sh", "running");
    const stopped = await fakeBottle(box, manifest, "sh", "stopped");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    fs.writeFileSync(path.join(lost.dir, "keeper.pid"), `${String(dead)}\n`);
    fs.writeFileSync(path.join(kept.dir, "keeper.pid"), `${String(process.pid)}\n`);
    fs.writeFileSync(path.join(stopped.dir, "keeper.pid"), `${String(dead)}\n`);
    const host = { env: box.env, home: box.home, cwd: box.cwd };
    assert.deepEqual(bottlesWithoutKeeper(host, "none"), [lost.identity]);
    assert.deepEqual(bottlesWithoutKeeper(host, lost.identity), []);
  });
});
