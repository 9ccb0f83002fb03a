/**
 * Approvals of push-branch requests at the same moment, by separate `bottle approve` processes:
 * every grant is kept in push-grants.json and in the running sidecar's branch list. Without a
 * lock, each approval read the grants, handed its list to the sidecar and wrote the file: one
 * that read before another wrote lost the other's grant (in the file and live).
 *
 * The sidecar stand-in (the real ControlServer) takes 150 ms to apply a branch list, as a busy
 * sidecar may: the read-change-write then spans it, which makes the race show every time.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileRequest } from "../../src/core/requests/request-store.js";
import { bottlePathsIn } from "../../src/core/state/bottle-state.js";
import { readPushGrants } from "../../src/core/state/push-grants.js";
import { withStateLock } from "../../src/core/state/state-lock.js";
import { isBottleError } from "../../src/core/errors.js";
import { ControlServer } from "../../src/sidecar/control-server.js";
import { cliProcess, makeSandbox } from "../helpers/cli.js";
import type { FakeBottle } from "../helpers/bottle-state.js";
import { fakeBottle } from "../helpers/bottle-state.js";

const MANIFEST = `agents:
  coder:
    bottle: box
    provider: shell
bottles:
  box:
    git:
      - {name: app, upstream: "https://git.example.com/me/app.git", token: {env: GIT_TOKEN}, push: {branches: ["bottle/*"]}}
    supervise: true
`;

const APPROVALS = 6;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A control socket like a running sidecar's, slow to take a branch list. */
async function slowSidecar(bottle: FakeBottle) {
  const branches: Record<string, string[]> = { app: ["bottle/*"] };
  const server = new ControlServer({
    health: () => ({ ok: true, state: "ready", identity: bottle.identity, gates: ["git"] }),
    setSecrets: () => undefined,
    getPolicy: () => ({ allow: [], deny: [] }),
    editPolicy: () => ({ allow: [], deny: [] }),
    savePolicy: () => undefined,
    setPushBranches: (next) => {
      sleepSync(150);
      Object.assign(branches, next);
    },
  });
  const socket = path.join(bottle.dir, "control", "control.sock");
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  await server.listen({ path: socket, mode: 0o600 });
  return { branches: () => branches, stop: () => server.stop() };
}

function pushRequests(bottle: FakeBottle): { id: string; pattern: string }[] {
  return Array.from({ length: APPROVALS }, (_, i) => {
    const pattern = `feature-${String(i)}/*`;
    const { request } = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      { kind: "push-branch", push_branch: { pattern, entry: null } },
      `branch ${String(i)}`,
    );
    return { id: request.id, pattern };
  });
}

describe("push grants under concurrent approvals", () => {
  it("keeps every grant when several processes approve at once (running bottle)", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "running");
    const sidecar = await slowSidecar(bottle);
    try {
      const requests = pushRequests(bottle);
      const runs = await Promise.all(
        requests.map((r) => cliProcess(["approve", r.id, "--yes"], box, {}, 300_000)),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      const saved = readPushGrants(bottlePathsIn(bottle.dir)).map((g) => g.pattern);
      const wanted = requests.map((r) => r.pattern).sort();
      assert.deepEqual([...saved].sort(), wanted, "every grant in push-grants.json");
      assert.deepEqual(
        [...(sidecar.branches()["app"] ?? [])].sort(),
        ["bottle/*", ...wanted].sort(),
        "every pattern in force in the sidecar",
      );
      assert.ok(!fs.existsSync(path.join(bottle.dir, "push-grants.json.lock")), "lock released");
    } finally {
      await sidecar.stop();
    }
  });

  it("keeps every grant when several processes approve at once (stopped bottle)", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const requests = pushRequests(bottle);
    const runs = await Promise.all(
      requests.map((r) => cliProcess(["approve", r.id, "--yes"], box, {}, 300_000)),
    );
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    const saved = readPushGrants(bottlePathsIn(bottle.dir)).map((g) => g.pattern);
    assert.deepEqual([...saved].sort(), requests.map((r) => r.pattern).sort());
  });
});

describe("state lock", () => {
  it("breaks a lock left by a dead process, and waits for a live holder", async () => {
    const dir = fs.mkdtempSync(path.join(makeSandbox().home, "lock-"));
    const file = path.join(dir, "x.lock");
    // A holder that is gone (pid 2^22+1 is above Linux's pid_max default... told dead here).
    fs.writeFileSync(file, "4194305 abcdef\n");
    const ran = await withStateLock(file, () => Promise.resolve("ran"), {
      alive: (pid) => pid !== 4194305,
      waitMs: 2000,
    });
    assert.equal(ran, "ran");
    assert.ok(!fs.existsSync(file), "released after");

    // A live holder (this process, another token): the waiter gives up with state_busy.
    fs.writeFileSync(file, `${String(process.pid)} 0123abcd\n`);
    await assert.rejects(
      withStateLock(file, () => Promise.resolve("never"), { waitMs: 200 }),
      (error) => isBottleError(error) && error.code === "state_busy",
    );
    assert.equal(fs.readFileSync(file, "utf8"), `${String(process.pid)} 0123abcd\n`, "left alone");
    fs.rmSync(file);

    // Two waiters in one process take turns: the second starts after the first ends.
    const order: string[] = [];
    const hold = (name: string) =>
      withStateLock(file, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}-`);
      });
    await Promise.all([hold("a"), hold("b")]);
    assert.deepEqual(order, ["a+", "a-", "b+", "b-"]);
  });
});
