/**
 * The path the agent really takes, for `bench:egress`: a real bottle (shell agent, the given
 * runtime), an HTTPS upstream container of the bench's own on the bottle's network (names
 * `bench.test`, intercepted, and `pass.bench.test`, passthrough), and the client run:
 *
 * - host → upstream (direct over the bridge): the reference;
 * - host → the sidecar's egress socket (in the socket volume) → upstream: the proxy alone;
 * - bottle → the egress socket (no relay): adds the unix socket from inside the container (under
 *   runsc, gVisor's `--host-uds`);
 * - bottle → relay (127.0.0.1:3128) → socket: adds the relay's copy and loopback into it;
 * - bottle loopback → an upstream inside the bottle, beside host loopback → the same upstream
 *   program on the host: the container's (gVisor's) loopback and TLS cost on their own.
 * Each hop's share is the difference of the two paths around it, medians of the same run.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../src/core/host/package-root.js";
import type { Job, Sample } from "./client.js";
import type { PathFigures } from "./figures.js";
import { figuresOf } from "./figures.js";
import { HERE, runClient, startServer } from "./processes.js";
import type { Settings } from "./proxy-alone.js";
import { upstreamCertificates } from "./proxy-alone.js";
import { shareLines } from "./shares.js";

const run = promisify(execFile);
const BASE_IMAGE = process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm";
const AGENT_UID = "1500";
const INSIDE = "/tmp/bench";

export interface BottleResult {
  runtime: string;
  figures: Record<string, PathFigures> | { skipped: string };
  lines: string[];
}

function manifest(runtime: string): string {
  return `agents:\n  sh: {bottle: box, provider: shell}\nbottles:\n  box:\n    runtime: ${runtime}\n    resources: {memory: 1g, cpus: 2, pids: 256}\n    egress:\n      allow: [{host: bench.test, internal: true, ports: [443]}, {host: pass.bench.test, internal: true, ports: [443], tls: passthrough}]\n`;
}

const docker = (...args: string[]) => run("docker", args, { maxBuffer: 64 * 1024 * 1024 });

/** Writes a file into a container through exec (works under runsc, whose root is not the host's). */
async function putFile(container: string, file: string, content: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      "docker",
      ["exec", "-i", "-u", AGENT_UID, container, "sh", "-c", `mkdir -p ${INSIDE} && cat > ${file}`],
      (error) => {
        if (error === null) resolve();
        else reject(new Error(`copying ${file} in: ${error.message}`));
      },
    );
    child.stdin?.end(content);
  });
}

async function clientIn(container: string, job: Job): Promise<Sample> {
  const { stdout } = await docker(
    "exec",
    "-u",
    AGENT_UID,
    container,
    "node",
    `${INSIDE}/client.js`,
    JSON.stringify(job),
  );
  return JSON.parse(stdout) as Sample;
}

interface Plan {
  containers: { agent: string };
  network: { sidecar: string };
  mounts: { name: string }[];
}

export async function inBottle(
  baseDir: string,
  runtime: string,
  settings: Settings,
  log: (line: string) => void,
): Promise<BottleResult> {
  const dir = path.join(baseDir, `bottle-${runtime}`);
  fs.mkdirSync(dir, { recursive: true });
  const certs = await upstreamCertificates(dir, ["bench.test", "pass.bench.test", "127.0.0.1"]);
  fs.writeFileSync(path.join(dir, "bottle.yaml"), manifest(runtime));
  const env = {
    ...process.env,
    BOT_BOTTLE_HOME: path.join(dir, "home"),
    BOT_BOTTLE_BASE_IMAGE: BASE_IMAGE,
    BOT_BOTTLE_UPSTREAM_CA: certs.caFile,
  };
  const bottle = (...args: string[]) =>
    run(process.execPath, [path.join(packageRoot(), "bin", "bottle.js"), ...args], {
      cwd: dir,
      env,
      timeout: 900_000,
    });
  log(`in a bottle (${runtime}): starting`);
  let identity: string;
  try {
    identity = (await bottle("start", "sh", "--yes", "--detach")).stdout.trim();
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n").slice(-3).join(" ") : "";
    return {
      runtime,
      figures: { skipped: why },
      lines: [`in a bottle (${runtime}): skipped: ${why}`],
    };
  }
  const stateDir = path.join(env.BOT_BOTTLE_HOME, "state", identity);
  const plan = JSON.parse(fs.readFileSync(path.join(stateDir, "plan.json"), "utf8")) as Plan;
  const agent = plan.containers.agent;
  const upstreamName = `bench-egress-upstream-${identity}`;
  const stops: (() => unknown)[] = [];
  try {
    const files = ["client.js", "upstream.js"];
    const inside = certs.leaves.map((leaf) => ({
      name: leaf.name,
      key: `${INSIDE}/${path.basename(leaf.key)}`,
      cert: `${INSIDE}/${path.basename(leaf.cert)}`,
    }));
    const copies: [string, string][] = [
      ...files.map((f): [string, string] => [path.join(HERE, f), `${INSIDE}/${f}`]),
      ...certs.leaves.flatMap((leaf): [string, string][] => [
        [leaf.key, `${INSIDE}/${path.basename(leaf.key)}`],
        [leaf.cert, `${INSIDE}/${path.basename(leaf.cert)}`],
      ]),
      [certs.caFile, `${INSIDE}/upstream-ca.pem`],
    ];
    // The upstream container: the same upstream program, on the bottle's network.
    await docker(
      "create",
      "--name",
      upstreamName,
      "--label",
      "bot-bottle.test=bench-egress",
      "--network",
      plan.network.sidecar,
      "--network-alias",
      "bench.test",
      "--network-alias",
      "pass.bench.test",
      "--entrypoint",
      "sleep",
      BASE_IMAGE,
      "infinity",
    );
    stops.push(() => docker("rm", "-f", upstreamName));
    await docker("start", upstreamName);
    for (const [from, to] of copies) {
      const content = fs.readFileSync(from, "utf8");
      await putFile(agent, to, content);
      await putFile(upstreamName, to, content);
    }
    await docker(
      "exec",
      "-d",
      "-u",
      AGENT_UID,
      upstreamName,
      "node",
      `${INSIDE}/upstream.js`,
      "443",
      "0.0.0.0",
      JSON.stringify(inside),
    );
    await docker(
      "exec",
      "-d",
      "-u",
      AGENT_UID,
      agent,
      "node",
      `${INSIDE}/upstream.js`,
      "8443",
      "127.0.0.1",
      JSON.stringify(inside.slice(2)),
    );
    const hostLoop = await startServer("upstream.js", [
      "0",
      "127.0.0.1",
      JSON.stringify(certs.leaves.slice(2)),
    ]);
    stops.push(() => {
      hostLoop.stop();
    });
    const ip = (
      await docker(
        "inspect",
        "-f",
        `{{(index .NetworkSettings.Networks "${plan.network.sidecar}").IPAddress}}`,
        upstreamName,
      )
    ).stdout.trim();
    const volume = plan.mounts[0]?.name ?? "";
    const mountpoint = (
      await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume)
    ).stdout.trim();
    const hostSocket = path.join(mountpoint, "egress.sock");
    const bottleCa = path.join(stateDir, "ca", "ca.crt");
    const insideCa = "/usr/local/share/ca-certificates/bot-bottle.crt";
    const upCa = `${INSIDE}/upstream-ca.pem`;
    const intercepted = { host: "bench.test", port: 443 };
    const passed = { host: "pass.bench.test", port: 443 };
    const relay = { host: "127.0.0.1", port: 3128 };
    const socket = { path: "/run/bot-bottle/egress.sock" };
    type Spec = {
      name: string;
      inside: boolean;
      job: Omit<Job, "bigBytes" | "bigRuns" | "fresh" | "kept">;
    };
    const specs: Spec[] = [
      {
        name: "host direct (bridge)",
        inside: false,
        job: {
          proxy: null,
          target: passed,
          direct: { host: ip, port: 443 },
          caFiles: [certs.caFile],
        },
      },
      {
        name: "host > socket > passthrough",
        inside: false,
        job: { proxy: { path: hostSocket }, target: passed, caFiles: [certs.caFile] },
      },
      {
        name: "host > socket > intercept",
        inside: false,
        job: { proxy: { path: hostSocket }, target: intercepted, caFiles: [bottleCa] },
      },
      {
        name: "bottle > socket > passthrough",
        inside: true,
        job: { proxy: socket, target: passed, caFiles: [upCa] },
      },
      {
        name: "bottle > socket > intercept",
        inside: true,
        job: { proxy: socket, target: intercepted, caFiles: [insideCa] },
      },
      {
        name: "bottle > relay > passthrough",
        inside: true,
        job: { proxy: relay, target: passed, caFiles: [upCa] },
      },
      {
        name: "bottle > relay > intercept",
        inside: true,
        job: { proxy: relay, target: intercepted, caFiles: [insideCa] },
      },
      {
        name: "host loopback direct",
        inside: false,
        job: {
          proxy: null,
          target: { host: "127.0.0.1", port: hostLoop.port },
          caFiles: [certs.caFile],
        },
      },
      {
        name: "bottle loopback direct",
        inside: true,
        job: { proxy: null, target: { host: "127.0.0.1", port: 8443 }, caFiles: [upCa] },
      },
    ];
    const samples = new Map<string, Sample[]>(specs.map((s) => [s.name, []]));
    for (let round = 0; round < settings.rounds; round += 1) {
      log(`in a bottle (${runtime}): round ${round + 1} of ${settings.rounds}`);
      for (const spec of specs) {
        const job: Job = {
          ...spec.job,
          bigBytes: settings.bigBytes,
          bigRuns: 1,
          fresh: settings.fresh,
          kept: settings.kept,
        };
        samples
          .get(spec.name)
          ?.push(spec.inside ? await clientIn(agent, job) : await runClient(job));
      }
    }
    const figures = Object.fromEntries(
      specs.map((s) => [s.name, figuresOf(samples.get(s.name) ?? [])]),
    );
    return { runtime, figures, lines: shareLines(runtime, settings, figures) };
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    await bottle("stop", identity).catch(() => undefined);
  }
}
