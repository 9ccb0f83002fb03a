/**
 * Soak (issue 12): the egress, credential and git gates of a real bottle under concurrent mixed
 * load for a bounded time, malformed input mixed in (garbage bytes, a 40 KB header, a bad
 * CONNECT, a smuggling attempt, a path leaving its route, a TLS hello on a plain port, a junk
 * pack, requests cut off half-way). Afterwards: the sidecar is alive and healthy, its memory is
 * back near where it started, it holds no more sockets or files than before, no git quarantine
 * is left, and every request was answered or refused (none hung).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import { bottleExec, docker, dockerSandbox, startUpstream } from "../helpers/docker.js";
import { sidecarFds, sidecarRssKiB } from "../helpers/sidecar-probe.js";
import type { SoakResult } from "../helpers/soak-load.js";
import { soakScript } from "../helpers/soak-load.js";
import type { SshContainer } from "../helpers/sshd-container.js";
import { startSshdContainer } from "../helpers/sshd-container.js";

const SOAK_SECONDS = 60;
const FAKE_API_TOKEN = "soak-fake-api-token-0123456789";

async function runLoad(box: Sandbox, identity: string, seconds: number): Promise<SoakResult> {
  const script = soakScript({
    seconds,
    workers: 12,
    branchPrefix: `bottle/${identity}`,
    clone: "/workspace/app",
  });
  const result = await cliProcess(
    [
      "exec",
      identity,
      "--",
      "bash",
      "-c",
      `cat > /tmp/soak.js <<'EOF'\n${script}\nEOF\nnode /tmp/soak.js`,
    ],
    box,
    {},
    (seconds + 120) * 1000,
  );
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "") as SoakResult;
}

describe("soak: every gate under mixed load", () => {
  let box: Sandbox;
  let sshd: SshContainer;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let testNet: string;
  let identity = "";
  let sidecar = "";

  before(async () => {
    testNet = `bb-test-soak-${process.pid}`;
    await docker.createNetwork({ Name: testNet, Labels: { "bot-bottle.test": "net" } });
    sshd = await startSshdContainer(testNet, "git.test");
    await sshd.createBareRepo("app");
    box = dockerSandbox(`agents:
  sh:
    bottle: box
    provider: shell
bottles:
  box:
    resources: {memory: 1g, cpus: 1, pids: 512}
    egress:
      allow: [{host: allowed.test, internal: true}]
    credentials:
      - {name: api, path: /api, upstream: "http://api.test", token: {env: SOAK_API_TOKEN}}
    git:
      - {name: app, upstream: "${sshd.url("app")}", identity_file: "${sshd.identityFile}", host_keys: ["${sshd.knownHostsLine}"]}
`);
    box.env["SOAK_API_TOKEN"] = FAKE_API_TOKEN;
    const started = await cliProcess(["start", "sh", "--yes", "--detach"], box, {}, 600_000);
    assert.equal(started.code, 0, started.stderr);
    identity = started.stdout.trim();
    sidecar = `bot-bottle-${identity}-sidecar`;
    const network = `bot-bottle-${identity}-net`;
    await docker
      .getNetwork(network)
      .connect({ Container: sshd.id, EndpointConfig: { Aliases: ["git.test"] } });
    upstream = await startUpstream(network, ["allowed.test", "api.test"]);
    const clone = await bottleExec(box, identity, `git clone -q ${sshd.url("app")} /workspace/app`);
    assert.equal(clone.code, 0, clone.stderr);
  });

  after(async () => {
    await upstream.remove();
    await sshd.remove();
    if (identity !== "") await cliProcess(["stop", identity], box, {}, 120_000);
    await docker.getNetwork(testNet).remove();
  });

  it("stays up, gives memory, sockets and quarantines back, and answers everything", async () => {
    // A short warm-up first, so the start line is the sidecar at work, not its first request.
    await runLoad(box, identity, 5);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const rssBefore = await sidecarRssKiB(sidecar);
    const fdsBefore = await sidecarFds(sidecar);

    const started = Date.now();
    const result = await runLoad(box, identity, SOAK_SECONDS);
    const took = Math.round((Date.now() - started) / 1000);

    // Idle connections close at once once the clients are gone; give the gates a moment.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const rssAfter = await sidecarRssKiB(sidecar);
    const fdsAfter = await sidecarFds(sidecar);
    const quarantine = path.join(
      box.env["BOT_BOTTLE_HOME"] ?? "",
      "state",
      identity,
      "git",
      "app.git",
      "bot-bottle-quarantine",
    );
    const quarantines = fs.existsSync(quarantine) ? fs.readdirSync(quarantine) : [];
    process.stdout.write(
      `# soak ${took}s: ${result.total} exchanges; sidecar RSS ${Math.round(rssBefore / 1024)} -> ${Math.round(rssAfter / 1024)} MiB; fds ${fdsBefore.all} -> ${fdsAfter.all} (sockets ${fdsBefore.sockets} -> ${fdsAfter.sockets}); quarantines left ${quarantines.length}\n# ${JSON.stringify(result.outcomes)}\n`,
    );

    const info = await docker.getContainer(sidecar).inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.State.OOMKilled, false);
    assert.equal(info.RestartCount, 0);
    const list = await cliProcess(["list", "--json"], box);
    assert.match(list.stdout, /"health": ?"healthy"/);

    const timeouts = Object.values(result.outcomes).reduce((n, o) => n + (o["timeout"] ?? 0), 0);
    assert.equal(timeouts, 0, "requests left hanging");
    assert.deepEqual(result.unexpected, {}, JSON.stringify(result.outcomes));
    assert.ok(result.total > 500, `only ${result.total} exchanges`);
    assert.ok((result.outcomes["git-push"]?.["ok"] ?? 0) > 3, JSON.stringify(result.outcomes));

    assert.ok(rssAfter < rssBefore + 64 * 1024, `RSS ${rssBefore} -> ${rssAfter} KiB`);
    assert.ok(fdsAfter.sockets <= fdsBefore.sockets + 4, JSON.stringify({ fdsBefore, fdsAfter }));
    assert.ok(fdsAfter.all <= fdsBefore.all + 6, JSON.stringify({ fdsBefore, fdsAfter }));
    assert.deepEqual(quarantines, []);

    // It still answers: a request through each gate.
    const after = await bottleExec(
      box,
      identity,
      "curl -s -o /dev/null -w '%{http_code} ' -x http://127.0.0.1:3128 http://allowed.test/; curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:3129/api/x; git -C /workspace/app ls-remote origin >/dev/null && echo git-ok",
    );
    assert.equal(after.stdout.trim(), "200 200 git-ok", after.stderr);
  });
});
