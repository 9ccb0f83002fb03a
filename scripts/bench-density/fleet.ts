/**
 * The bottles of one `bench:density` run: a temp BOT_BOTTLE_HOME with a shell agent's manifest,
 * started one after the other with the real CLI (`bottle start --detach`, each timed), stopped
 * with `bottle stop`, and what is left afterwards found by the home's label (containers, networks,
 * volumes), the state folders' status and the keepers' processes.
 */
import { processAlive } from "../../src/core/host/process-alive.js";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { packageRoot } from "../../src/core/host/package-root.js";
import { LABELS, homeTag } from "../../src/core/plan/layout.js";

const run = promisify(execFile);
export const UPSTREAM_HOST = "up.density.test";
export const UPSTREAM_PORT = 8080;

export const docker = (...args: string[]) =>
  run("docker", args, { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });

export interface Bottle {
  identity: string;
  start_ms: number;
  agent: { id: string; pid: number };
  sidecar: { id: string; pid: number };
  network: string;
  controlSocket: string;
  keeperPid: number | undefined;
  runtime: string;
}

function manifest(runtime: string): string {
  return [
    "agents:",
    "  sh: {bottle: box, provider: shell}",
    "bottles:",
    "  box:",
    `    runtime: ${runtime}`,
    `    egress: {allow: [{host: ${UPSTREAM_HOST}, internal: true, ports: [${String(UPSTREAM_PORT)}]}]}`,
    "",
  ].join("\n");
}

interface SavedPlan {
  containers: { agent: string; sidecar: string };
  network: { sidecar: string };
  runtime: { resolved: string };
}

export class Fleet {
  readonly dir: string;
  readonly home: string;
  readonly bottles: Bottle[] = [];

  constructor(runtime: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-density-"));
    this.home = path.join(this.dir, "home");
    fs.writeFileSync(path.join(this.dir, "bottle.yaml"), manifest(runtime));
  }

  /** The home label's value on every engine object of this run. */
  get tag(): string {
    return homeTag(path.resolve(this.home));
  }

  private async cli(...args: string[]): Promise<string> {
    const env = {
      ...process.env,
      BOT_BOTTLE_HOME: this.home,
      BOT_BOTTLE_BASE_IMAGE: process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm",
    };
    const { stdout } = await run(
      process.execPath,
      [path.join(packageRoot(), "bin", "bottle.js"), ...args],
      { cwd: this.dir, env, timeout: 600_000 },
    );
    return stdout.trim();
  }

  private stateFile(identity: string, file: string): string {
    return path.join(this.home, "state", identity, file);
  }

  /** Starts one more bottle and records where its parts are. */
  async startOne(): Promise<Bottle> {
    const started = process.hrtime.bigint();
    const identity = await this.cli("start", "sh", "--yes", "--detach");
    const startMs = Number(process.hrtime.bigint() - started) / 1e6;
    const plan = JSON.parse(
      fs.readFileSync(this.stateFile(identity, "plan.json"), "utf8"),
    ) as SavedPlan;
    const inspect = async (name: string) => {
      const [id, pid] = (await docker("inspect", "-f", "{{.Id}} {{.State.Pid}}", name)).stdout
        .trim()
        .split(" ");
      return { id: id ?? "", pid: Number(pid) };
    };
    const keeperFile = this.stateFile(identity, "keeper.pid");
    const bottle: Bottle = {
      identity,
      start_ms: startMs,
      agent: await inspect(plan.containers.agent),
      sidecar: await inspect(plan.containers.sidecar),
      network: plan.network.sidecar,
      controlSocket: this.stateFile(identity, path.join("control", "control.sock")),
      keeperPid: fs.existsSync(keeperFile)
        ? Number(fs.readFileSync(keeperFile, "utf8").trim())
        : undefined,
      runtime: plan.runtime.resolved,
    };
    this.bottles.push(bottle);
    return bottle;
  }

  /**
   * Starts and stops one bottle that is not counted: builds the images when they are missing, so
   * no build runs (or holds memory) while the host is measured.
   */
  async warmUp(): Promise<void> {
    const identity = await this.cli("start", "sh", "--yes", "--detach");
    await this.cli("stop", identity);
  }

  async stop(identity: string): Promise<void> {
    await this.cli("stop", identity);
  }

  /** What is left of this run: engine objects by label, state not stopped, keepers alive. */
  async leftovers(): Promise<Leftovers> {
    const filter = `label=${LABELS.home}=${this.tag}`;
    const lines = async (...args: string[]) =>
      (await docker(...args)).stdout.split("\n").filter((l) => l.trim() !== "");
    const notStopped = this.bottles.filter((b) => {
      try {
        const meta = JSON.parse(
          fs.readFileSync(this.stateFile(b.identity, "metadata.json"), "utf8"),
        ) as {
          status?: string;
        };
        return meta.status !== "stopped";
      } catch {
        return false; // A state folder that is gone is nothing left.
      }
    });
    // A keeper ends within its poll interval after the bottle is marked stopped.
    let keepers = this.liveKeepers();
    for (let i = 0; i < 20 && keepers.length > 0; i++) {
      await sleep(250);
      keepers = this.liveKeepers();
    }
    return {
      containers: await lines("ps", "-a", "-q", "--filter", filter),
      networks: await lines("network", "ls", "-q", "--filter", filter),
      volumes: await lines("volume", "ls", "-q", "--filter", filter),
      state_not_stopped: notStopped.map((b) => b.identity),
      keepers_alive: keepers,
    };
  }

  private liveKeepers(): number[] {
    return [...new Set(this.bottles.map((b) => b.keeperPid))].filter(
      (pid): pid is number => pid !== undefined && processAlive(pid),
    );
  }

  /** Safety net after a failure half-way: removes this run's own objects and keepers only. */
  async removeAll(): Promise<void> {
    const left = await this.leftovers().catch(() => undefined);
    if (left !== undefined) {
      for (const pid of left.keepers_alive) process.kill(pid, "SIGTERM");
      if (left.containers.length > 0)
        await docker("rm", "-f", ...left.containers).catch(() => undefined);
      for (const network of left.networks)
        await docker("network", "rm", network).catch(() => undefined);
      if (left.volumes.length > 0)
        await docker("volume", "rm", ...left.volumes).catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
  state_not_stopped: string[];
  keepers_alive: number[];
}
