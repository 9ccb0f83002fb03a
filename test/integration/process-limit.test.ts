/**
 * Issue 12, item 7, as observed: with `pids: 256` the gVisor sandbox died during a `git push`
 * ("cgroup: fork rejected by pids controller", container exited 2), because gVisor's own threads
 * count against the container's pids cgroup (about two host tasks per thread inside). Here a
 * bottle with a small limit runs a command that forks far past it: the command must fail, and
 * the bottle must stay up and answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  execAsRoot,
  shellManifest,
  startDetached,
} from "../helpers/docker.js";

const PIDS = 48;

describe("a bottle whose process limit is exhausted", () => {
  let box: Sandbox;
  let identity: string;

  before(async () => {
    box = dockerSandbox(shellManifest({ pids: PIDS }));
    identity = await startDetached(box);
  });

  after(async () => {
    await cliProcess(["stop", identity], box);
  });

  it("sets the agent's RLIMIT_NPROC to pids and the cgroup above it (runsc)", async () => {
    const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
    assert.equal(info.HostConfig.Runtime, "runsc");
    assert.equal(info.HostConfig.PidsLimit, PIDS * 2 + 256);
    const limit = await bottleExec(box, identity, "ulimit -u");
    assert.equal(limit.stdout.trim(), String(PIDS));
  });

  it("fails the forking command, not the bottle", async () => {
    // Three times the limit in sleeping children: each one a process (and, under gVisor, about
    // two host tasks) for as long as the command runs.
    const bomb = await bottleExec(
      box,
      identity,
      `n=0; for i in $(seq 1 ${PIDS * 3}); do (sleep 30) 2>/dev/null & n=$((n+1)); done; echo started $n`,
    );
    assert.notEqual(bomb.code, 0, `the command forked past the limit:\n${bomb.stdout}`);
    assert.match(bomb.stderr, /fork|Resource temporarily unavailable/, bomb.stderr);

    const agent = `bot-bottle-${identity}-agent`;
    const info = await docker.getContainer(agent).inspect();
    assert.equal(info.State.Running, true, `agent exited ${info.State.ExitCode}`);
    // While the agent's user is at its limit the bottle still answers: root (whom RLIMIT_NPROC
    // does not hold) reaches the egress gate through the relay (403: that host is not allowed).
    const answer = await execAsRoot(
      agent,
      "curl -s -o /dev/null -w '%{http_code}' -x http://127.0.0.1:3128 http://nothing.test/",
    );
    assert.equal(answer.trim(), "403");
    // Once the children are gone, the agent's user runs commands again.
    await execAsRoot(agent, "pkill -u 1500 -x sleep; true");
    const again = await bottleExec(box, identity, "echo alive");
    assert.equal(again.stdout.trim(), "alive", again.stderr);
    const list = await cliProcess(["list", "--json"], box);
    assert.match(list.stdout, /"health": ?"healthy"/, list.stdout);
  });
});
