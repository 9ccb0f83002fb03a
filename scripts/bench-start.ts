/**
 * `npm run bench:start [-- --json]`: time from `bottle start --detach` to a ready bottle (images
 * already built), beside a bare `docker run --rm <agent image> true` under the same runtime,
 * measured in the same run, for each runtime in RUNTIMES (default `runc,runsc`). Prints medians
 * over RUNS runs each, their ratio, and where the time goes: the median time at which each phase
 * of the start ended (from the bottle's start-timings.json; ms since the CLI process began).
 * COMPARE_WITH=<another built checkout> also times that checkout's `bottle start` in the same
 * rounds (run after run, in turn), so a before/after ratio does not depend on the machine's load.
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
const compareWith = process.env["COMPARE_WITH"];

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
  /** The COMPARE_WITH checkout's starts, measured in the same rounds. */
  compared?: { root: string; start_ms: number[]; ratio: number; phases: Record<string, number> };
}

function medianPhases(marks: StartMark[][]): Record<string, number> {
  const phases: Record<string, number> = {};
  for (const phase of marks[0]?.map((m) => m.phase) ?? []) {
    phases[phase] = median(marks.map((m) => m.find((x) => x.phase === phase)?.at_ms ?? 0));
  }
  return phases;
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
    `agents:\n  sh: {bottle: box, provider: shell}\nbottles:\n  box:\n    runtime: ${runtime}\n    egress: {allow: [allowed.test]}\n`,
  );
  const bottleOf =
    (checkout: string) =>
    (...args: string[]) =>
      run(process.execPath, [path.join(checkout, "bin", "bottle.js"), ...args], { cwd: dir, env });
  const bottle = bottleOf(root);
  const other = compareWith === undefined ? undefined : bottleOf(compareWith);
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
    if (other !== undefined)
      await other("stop", (await other("start", "sh", "--yes", "--detach")).stdout.trim());
    const image = plan.images.agent.tag;
    const resolved = plan.runtime.resolved;

    const starts: number[] = [];
    const bare: number[] = [];
    const marks: StartMark[][] = [];
    const otherStarts: number[] = [];
    const otherMarks: StartMark[][] = [];
    const once = async (cli: typeof bottle, into: number[], marksInto: StartMark[][]) => {
      let identity = "";
      into.push(
        await timed(async () => {
          identity = (await cli("start", "sh", "--yes", "--detach")).stdout.trim();
        }),
      );
      const file = statePath(identity, "start-timings.json");
      if (fs.existsSync(file))
        marksInto.push(JSON.parse(fs.readFileSync(file, "utf8")) as StartMark[]);
      await cli("stop", identity);
    };
    for (let i = 0; i < RUNS; i++) {
      await once(bottle, starts, marks);
      if (other !== undefined) await once(other, otherStarts, otherMarks);
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
    return {
      runtime: resolved,
      start_ms: starts,
      bare_ms: bare,
      ratio: median(starts) / median(bare),
      phases: medianPhases(marks),
      ...(compareWith === undefined
        ? {}
        : {
            compared: {
              root: compareWith,
              start_ms: otherStarts,
              ratio: median(otherStarts) / median(bare),
              phases: medianPhases(otherMarks),
            },
          }),
    };
  } finally {
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
  const compared = result.compared;
  if (compared !== undefined) {
    lines.push(
      `${compared.root} (same rounds): median ${ms(median(compared.start_ms))}  [${compared.start_ms.map(ms).join(", ")}], ${compared.ratio.toFixed(2)}x the bare run; this one / that one: ${(start / median(compared.start_ms)).toFixed(2)}`,
    );
    for (const [phase, at] of Object.entries(compared.phases).sort((a, b) => a[1] - b[1])) {
      lines.push(`  ${phase.padEnd(24)}${at.toFixed(0).padStart(6)}`);
    }
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
