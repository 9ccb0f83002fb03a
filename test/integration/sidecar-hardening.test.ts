/**
 * Issue 12, item 4, in a real bottle, as observed: the sidecar ran as root with a writable root
 * file system and no memory or pids limit; twenty held-open 15 MB POSTs from the agent grew it
 * from 12 to 302 MiB, and plain connections had no cap. Now: non-root, read-only root, limits,
 * bodies held under one budget and connections capped per gate; past a cap, 503, and the sidecar
 * stays up and answers.
 */
import assert from "node:assert/strict";
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
} from "../helpers/docker.js";
import { execIn, sidecarRssKiB } from "../helpers/sidecar-probe.js";
import {
  BUFFERED_BYTES,
  GATE_CONNECTIONS,
  SIDECAR_CONTAINER,
} from "../../src/core/contract/sidecar-limits.js";

const MiB = 1024 * 1024;
/** Each upload's size (under the content checks' 16 MiB read limit); twenty pass the budget. */
const UPLOAD = 15 * MiB;

/**
 * Run in the agent: `count` uploads of `size` bytes (`declared` announced), each held open once
 * sent. The outcome is printed once every upload has sent its bytes or been answered and no answer
 * came for 3 s (bytes may still be in the relay), or at `capMs`: no fixed wait decides the counts.
 */
function uploadScript(count: number, size: number, declared: number, capMs: number): string {
  return `cat > /tmp/uploads.js <<'EOF'
const net = require("net");
const chunk = Buffer.alloc(1024 * 1024, 0x61);
const statuses = [];
const sockets = [];
let settled = 0;
let sentAll = 0;
let lastAnswer = Date.now();
for (let i = 0; i < ${count}; i++) {
  const s = net.connect(3128, "127.0.0.1");
  sockets.push(s);
  let status = null;
  let done = false;
  const settle = () => { if (!done) { done = true; settled++; } };
  s.on("data", (d) => { if (status === null) { status = d.toString("latin1").split(" ")[1]; statuses.push(status); lastAnswer = Date.now(); settle(); } });
  s.on("error", settle);
  s.on("close", settle);
  s.on("connect", async () => {
    s.write("POST http://allowed.test/up HTTP/1.1\\r\\nHost: allowed.test\\r\\ncontent-length: ${declared}\\r\\n\\r\\n");
    for (let sent = 0; sent < ${size}; sent += chunk.length) {
      if (status !== null || s.destroyed) return;
      if (!s.write(chunk)) await new Promise((r) => { s.once("drain", r); s.once("close", r); });
    }
    sentAll++;
    settle();
  });
}
const report = () => {
  const counts = {};
  for (const st of statuses) counts[st] = (counts[st] || 0) + 1;
  console.log(JSON.stringify({ counts, answered: statuses.length, sent: sentAll, settled }));
  for (const s of sockets) s.destroy();
  process.exit(0);
};
// Bytes sent may still be in the relay: report once every upload settled and answers stopped coming.
setInterval(() => { if (settled >= ${count} && Date.now() - lastAnswer > 3000) report(); }, 200);
setTimeout(report, ${capMs});
EOF
node /tmp/uploads.js`;
}

/** Run in the agent: `count` plain connections held open, then one request on each. */
function floodScript(count: number): string {
  return `cat > /tmp/flood.js <<'EOF'
const net = require("net");
const statuses = {};
let done = 0;
const sockets = [];
for (let i = 0; i < ${count}; i++) {
  const s = net.connect(3128, "127.0.0.1");
  sockets.push(s);
  let seen = false;
  const finish = (st) => { if (seen) return; seen = true; statuses[st] = (statuses[st] || 0) + 1; done++; };
  s.on("data", (d) => finish(d.toString("latin1").split(" ")[1]));
  s.on("error", () => finish("error"));
  s.on("close", () => finish("closed"));
}
// Let every connection arrive and be held, then ask on each: the first ${GATE_CONNECTIONS.egress} are served.
setTimeout(() => {
  for (const s of sockets) if (!s.destroyed) s.write("GET http://nothing.test/ HTTP/1.1\\r\\nHost: nothing.test\\r\\n\\r\\n");
}, 3000);
setTimeout(() => { console.log(JSON.stringify(statuses)); for (const s of sockets) s.destroy(); }, 8000);
EOF
node /tmp/flood.js`;
}

describe("the sidecar as a hard target", () => {
  let box: Sandbox;
  let identity: string;
  let sidecar: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    box = dockerSandbox(shellManifest());
    identity = await startDetached(box);
    sidecar = `bot-bottle-${identity}-sidecar`;
    upstream = await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]);
  });

  after(async () => {
    await upstream.remove();
    await cliProcess(["stop", identity], box);
  });

  it("runs non-root, on a read-only root, with memory and pids limits", async () => {
    const info = await docker.getContainer(sidecar).inspect();
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.equal(info.HostConfig.Memory, SIDECAR_CONTAINER.memoryBytes);
    assert.equal(info.HostConfig.PidsLimit, SIDECAR_CONTAINER.pids);
    const probe = await execIn(
      sidecar,
      "id -u; touch /probe 2>&1 || true; touch /tmp/probe && echo tmp-writable",
    );
    const [uid] = probe.split("\n");
    assert.notEqual(uid, "0", "the sidecar runs as root");
    assert.match(probe, /Read-only file system/);
    assert.match(probe, /tmp-writable/);
  });

  it("holds twenty held-open 15 MiB uploads within its budget, refusing the rest", async () => {
    const before = await sidecarRssKiB(sidecar);
    let peak = before;
    const sampler = { running: true };
    const sampling = (async () => {
      while (sampler.running) {
        peak = Math.max(peak, await sidecarRssKiB(sidecar).catch(() => 0));
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    const result = await bottleExec(box, identity, uploadScript(20, UPLOAD, UPLOAD + MiB, 30_000));
    sampler.running = false;
    await sampling;
    assert.equal(result.code, 0, result.stderr);
    const outcome = JSON.parse(result.stdout.trim()) as {
      counts: Record<string, number>;
      answered: number;
      settled: number;
    };
    const grewMiB = (peak - before) / 1024;
    process.stdout.write(
      `# sidecar RSS ${Math.round(before / 1024)} MiB before, peak ${Math.round(peak / 1024)} MiB (+${Math.round(grewMiB)}); answers ${JSON.stringify(outcome.counts)}\n`,
    );
    // Twenty uploads pass the budget, so some are refused with 503 and none is answered
    // otherwise (the held ones are not answered yet). How many are refused is not fixed: under
    // gVisor, bytes an upload has "sent" may still sit in the bottle's socket buffers and the
    // relay (CI saw 5 to 8 of 20). Memory is the invariant, checked below against the budget.
    assert.ok((outcome.counts["503"] ?? 0) >= 1, JSON.stringify(outcome));
    assert.deepEqual(Object.keys(outcome.counts), ["503"], JSON.stringify(outcome));
    assert.ok(grewMiB < BUFFERED_BYTES / MiB + 48, `the sidecar grew by ${grewMiB} MiB`);
    const health = await cliProcess(["list", "--json"], box);
    assert.match(health.stdout, /"health": ?"healthy"/);
  });

  it("answers a flood of plain connections past the cap with 503, and answers after", async () => {
    const result = await bottleExec(box, identity, floodScript(GATE_CONNECTIONS.egress + 60));
    assert.equal(result.code, 0, result.stderr);
    const statuses = JSON.parse(result.stdout.trim()) as Record<string, number>;
    process.stdout.write(
      `# flood of ${GATE_CONNECTIONS.egress + 60}: ${JSON.stringify(statuses)}\n`,
    );
    assert.ok((statuses["503"] ?? 0) >= 50, JSON.stringify(statuses));
    assert.ok((statuses["403"] ?? 0) >= GATE_CONNECTIONS.egress - 10, JSON.stringify(statuses));
    const after = await bottleExec(
      box,
      identity,
      "curl -s -o /dev/null -w '%{http_code}' -x http://127.0.0.1:3128 http://allowed.test/",
    );
    assert.equal(after.stdout.trim(), "200", after.stderr);
    const info = await docker.getContainer(sidecar).inspect();
    assert.equal(info.State.Running, true);
    assert.equal(info.State.OOMKilled, false);
  });
});
