/**
 * `npm run bench:start [-- --json]`: time from `bottle start --detach` to a ready bottle (images
 * already built), beside a bare `docker run --rm <agent image> true` under the same runtime,
 * measured in the same run, for each runtime in RUNTIMES (default `runc,runsc`). Prints medians
 * over RUNS runs each, their ratio, and where the time goes: the median time at which each phase
 * of the start ended (from the bottle's start-timings.json; ms since the CLI process began).
 *
 * The pooled row: `bottle start --detach` taking a bottle from a warm pool of one
 * (`bottle pool psh --size 1`, another agent name for the same bottle, so that the plain row
 * never takes from it), measured in the same runs; before each pooled start the bench
 * waits for the background refill to finish, so that no start is measured beside a refill.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../src/core/host/package-root.js";
import type { StartMark } from "../src/backend/docker/start-timings.js";
import { median } from "./median.js";

const run = promisify(execFile);
const RUNS = Number(process.env["RUNS"] ?? 7);
const RUNTIMES = (process.env["RUNTIMES"] ?? process.env["RUNTIME"] ?? "runc,runsc").split(",");
const json = process.argv.includes("--json");
const root = packageRoot();

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

interface RuntimeResult {
  runtime: string;
  start_ms: number[];
  bare_ms: number[];
  ratio: number;
  /** Median time each phase ended, in ms since the CLI process began. */
  phases: Record<string, number>;
  /** `bottle start --detach` from a warm pool (a pooled bottle taken). */
  pooled_ms: number[];
  pooled_phases: Record<string, number>;
  /** A bare `node -e ""` (the floor of any CLI process here), in the same runs. */
  node_ms: number[];
}

function medianPhases(marks: readonly StartMark[][]): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const phase of marks[0]?.map((m) => m.phase) ?? []) {
    phases[phase] = median(marks.map((m) => m.find((x) => x.phase === phase)?.at_ms ?? 0));
  }
  return phases;
}

/**
 * Waits until the agent's pool holds `size` ready bottles and no refill runs. A refill that gave
 * up (the log says why) is replaced by filling the pool in the foreground.
 */
async function poolSettled(
  home: string,
  size: number,
  fill: () => Promise<unknown>,
): Promise<void> {
  const dir = path.join(home, "pool", "psh");
  const started = Date.now();
  const deadline = started + 180_000;
  for (;;) {
    const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    const ready = names.filter((n) => n.endsWith(".ready.json")).length;
    if (ready >= size && !names.includes("refill.lock")) return;
    // The refill process takes its lock within a few seconds of the take, and holds it until done.
    const gaveUp = !names.includes("refill.lock") && Date.now() - started > 5000;
    if (gaveUp || Date.now() > deadline) {
      const log = path.join(home, "pool", "refill.log");
      const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-4) : [];
      process.stderr.write(
        `refill did not finish; filling in the foreground. Log:\n${tail.join("\n")}\n`,
      );
      await fill();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function measure(runtime: string): Promise<RuntimeResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-start-"));
  const env = {
    ...process.env,
    BOT_BOTTLE_HOME: path.join(dir, "home"),
    BOT_BOTTLE_BASE_IMAGE: process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm",
  };
  fs.writeFileSync(
    path.join(dir, "bottle.yaml"),
    `agents:\n  sh: {bottle: box, provider: shell}\n  psh: {bottle: box, provider: shell}\nbottles:\n  box:\n    runtime: ${runtime}\n    egress: {allow: [allowed.test]}\n`,
  );
  const bottle = (...args: string[]) =>
    run(process.execPath, [path.join(root, "bin", "bottle.js"), ...args], { cwd: dir, env });
  const statePath = (identity: string, file: string) =>
    path.join(env.BOT_BOTTLE_HOME, "state", identity, file);
  try {
    // Warm-up: builds the images if needed and tells us the agent image and runtime.
    const warm = (await bottle("start", "sh", "--yes", "--detach")).stdout.trim();
    const plan = JSON.parse(fs.readFileSync(statePath(warm, "plan.json"), "utf8")) as {
      images: { agent: { tag: string } };
      runtime: { resolved: string };
    };
    await bottle("stop", warm);
    const image = plan.images.agent.tag;
    const resolved = plan.runtime.resolved;

    // The pooled row's agent is another name for the same bottle: `sh` never has a pool, so its
    // row measures the start without one.
    const fill = () => bottle("pool", "psh", "--size", "1");
    await fill();
    const starts: number[] = [];
    const bare: number[] = [];
    const marks: StartMark[][] = [];
    const pooled: number[] = [];
    const pooledMarks: StartMark[][] = [];
    const node: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      node.push(await timed(() => run(process.execPath, ["-e", ""])));
      await poolSettled(env.BOT_BOTTLE_HOME, 1, fill);
      let taken = "";
      pooled.push(
        await timed(async () => {
          taken = (await bottle("start", "psh", "--yes", "--detach")).stdout.trim();
        }),
      );
      const takenTimings = statePath(taken, "start-timings.json");
      if (fs.existsSync(takenTimings))
        pooledMarks.push(JSON.parse(fs.readFileSync(takenTimings, "utf8")) as StartMark[]);
      await bottle("stop", taken);
      await poolSettled(env.BOT_BOTTLE_HOME, 1, fill);
      let identity = "";
      starts.push(
        await timed(async () => {
          identity = (await bottle("start", "sh", "--yes", "--detach")).stdout.trim();
        }),
      );
      const file = statePath(identity, "start-timings.json");
      if (fs.existsSync(file)) marks.push(JSON.parse(fs.readFileSync(file, "utf8")) as StartMark[]);
      await bottle("stop", identity);
      bare.push(
        await timed(() =>
          run("docker", [
            "run",
            "--rm",
            `--runtime=${resolved}`,
            "--network=none",
            "--entrypoint",
            "true",
            image,
          ]),
        ),
      );
    }
    await bottle("pool", "psh", "--size", "0");
    return {
      runtime: resolved,
      start_ms: starts,
      bare_ms: bare,
      ratio: median(starts) / median(bare),
      phases: medianPhases(marks),
      pooled_ms: pooled,
      pooled_phases: medianPhases(pooledMarks),
      node_ms: node,
    };
  } finally {
    await bottle("pool", "psh", "--size", "0").catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function print(result: RuntimeResult): string[] {
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const start = median(result.start_ms);
  const bare = median(result.bare_ms);
  const lines = [
    `runtime ${result.runtime}, ${RUNS} runs each`,
    `bottle start --detach (to ready):  median ${ms(start)}  [${result.start_ms.map(ms).join(", ")}]`,
    `docker run --rm IMAGE true:        median ${ms(bare)}  [${result.bare_ms.map(ms).join(", ")}]`,
    `ratio start / bare run: ${result.ratio.toFixed(2)}x`,
    `targets: <= 2x the bare run: ${result.ratio <= 2 ? "met" : "NOT met"}; under 1 s: ${start < 1000 ? "met" : "NOT met"}`,
    "where the time goes (median ms since the CLI process began, when each phase ended; sidecar and agent run side by side):",
  ];
  // Phases end in a different order from run to run (sidecar and agent side by side): by time.
  for (const [phase, at] of Object.entries(result.phases).sort((a, b) => a[1] - b[1])) {
    lines.push(`  ${phase.padEnd(24)}${at.toFixed(0).padStart(6)}`);
  }
  const pooled = median(result.pooled_ms);
  lines.push(
    `pooled: bottle start --detach from a warm pool:  median ${ms(pooled)}  [${result.pooled_ms.map(ms).join(", ")}]`,
    `node -e "" (any CLI's floor):     median ${ms(median(result.node_ms))}  [${result.node_ms.map(ms).join(", ")}]`,
    `ratio pooled / bare run: ${(pooled / bare).toFixed(2)}x; target under 250 ms: ${pooled < 250 ? "met" : "NOT met"}`,
    "where the pooled start's time goes (median ms since the CLI process began):",
  );
  for (const [phase, at] of Object.entries(result.pooled_phases).sort((a, b) => a[1] - b[1])) {
    lines.push(`  ${phase.padEnd(24)}${at.toFixed(0).padStart(6)}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const results: RuntimeResult[] = [];
  for (const runtime of RUNTIMES) results.push(await measure(runtime));
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(results.flatMap((r) => [...print(r), ""]).join("\n"));
}

await main();
