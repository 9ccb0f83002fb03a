/**
 * One `bench:density` run under one runtime: COUNT idle shell bottles started one after the
 * other (each start timed), the host's memory before and after (settled), each part's share,
 * every bottle asked whether it still answers, then every bottle stopped and what is left found.
 * Whatever happens, the run's own objects are removed at the end.
 */
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Answer } from "./answers.js";
import { ask, removeUpstream, startUpstream } from "./answers.js";
import type { Breakdown } from "./breakdown.js";
import { breakdown } from "./breakdown.js";
import type { Leftovers } from "./fleet.js";
import { Fleet } from "./fleet.js";
import { MB, hostUsed } from "./memory.js";
import { median } from "../median.js";

export interface Settings {
  count: number;
  /** Seconds to let the fleet settle before the host's memory is read. */
  settleS: number;
  /** Bottles stopped at once. */
  stopConcurrency: number;
}

export interface RuntimeResult {
  /** The manifest's `runtime:` (auto: what the machine resolves). */
  asked: string;
  runtime: string;
  count: number;
  /** COUNT: how many were to be started. */
  asked_count: number;
  /** The start that failed (then no more were tried), or null when all started. */
  start_failure: { at: number; reason: string } | null;
  start_ms: number[];
  /** Median start time of bottles 1-10, 11-20, ... */
  start_by_ten: { from: number; to: number; median_ms: number }[];
  loadavg: { before: number[]; after_start: number[]; after: number[] };
  host: {
    before: number;
    after: number;
    after_stop: number;
    /** (after - before) / count: the headline figure. */
    per_bottle: number;
    /** Least-squares slope of the host's memory read after each start: less hurt by one-off noise. */
    ramp_slope: number;
    /** (after - after stop) / count: what stopping gave back. */
    released_per_bottle: number;
  };
  /** Means per bottle, idle (before any request). */
  idle: Breakdown;
  /** dockerd's and containerd's growth per bottle. */
  engine_per_bottle: number;
  /** Means per bottle after each bottle answered once. */
  answered_once: Breakdown;
  answers: { ok: number; failed: Answer[] };
  stop: { seconds: number; leftovers: Leftovers };
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function inPool<T>(
  items: T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: size }, worker));
}

export async function runDensity(
  asked: string,
  settings: Settings,
  log: (line: string) => void,
): Promise<RuntimeResult> {
  const fleet = new Fleet(asked);
  let upstream: string | undefined;
  try {
    log(`${asked}: warming up (one bottle started and stopped: images built if missing)`);
    await fleet.warmUp();
    log(`${asked}: settling ${String(settings.settleS)} s, reading the host's memory`);
    await sleep(settings.settleS * 1000);
    const engineBefore = breakdown([]).engine;
    const before = await hostUsed();
    const loadBefore = os.loadavg();
    const ramp: [number, number][] = [[0, before]];
    let startFailure: RuntimeResult["start_failure"] = null;
    for (let i = 1; i <= settings.count; i++) {
      let bottle;
      try {
        bottle = await fleet.startOne();
      } catch (error) {
        // The machine holds no more: what stopped it is a finding; the started ones are measured.
        const lines = (error instanceof Error ? error.message : String(error))
          .split("\n")
          .filter((l) => l.startsWith("error:"));
        startFailure = { at: i, reason: lines[0] ?? "unknown" };
        log(`${asked}: bottle ${String(i)} failed to start: ${startFailure.reason}`);
        break;
      }
      const used = await hostUsed(1);
      ramp.push([i, used]);
      const grown = (used - before) / MB / i;
      log(
        `${asked}: bottle ${String(i)}/${String(settings.count)} ${bottle.identity} (${bottle.runtime}) started in ${bottle.start_ms.toFixed(0)} ms; host +${grown.toFixed(1)} MB per bottle so far; load ${os.loadavg()[0]?.toFixed(1) ?? "?"}`,
      );
    }
    const loadAfterStart = os.loadavg();
    log(`${asked}: all started; letting them settle ${String(settings.settleS)} s`);
    await sleep(settings.settleS * 1000);
    const after = await hostUsed();
    const idle = breakdown(fleet.bottles);

    upstream = await startUpstream(`bot-bottle.test=bench-density`);
    const answers: Answer[] = [];
    for (const bottle of fleet.bottles) {
      answers.push(await ask(bottle, upstream));
      if (answers.length % 10 === 0 || answers.length === fleet.bottles.length) {
        const ok = answers.filter((a) => a.ok).length;
        log(
          `${asked}: asked ${String(answers.length)}/${String(fleet.bottles.length)}, ${String(ok)} answered`,
        );
      }
    }
    await removeUpstream(upstream);
    upstream = undefined;
    const answeredOnce = breakdown(fleet.bottles);

    log(`${asked}: stopping ${String(fleet.bottles.length)} bottles`);
    const stopStart = Date.now();
    let stopped = 0;
    await inPool([...fleet.bottles], settings.stopConcurrency, async (b) => {
      await fleet.stop(b.identity).catch((error: unknown) => {
        log(
          `${asked}: stop ${b.identity} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      stopped += 1;
      if (stopped % 10 === 0)
        log(`${asked}: stopped ${String(stopped)}/${String(fleet.bottles.length)}`);
    });
    const stopSeconds = (Date.now() - stopStart) / 1000;
    const leftovers = await fleet.leftovers();
    await sleep(settings.settleS * 1000);
    const afterStop = await hostUsed();
    const starts = fleet.bottles.map((b) => b.start_ms);
    const byTen = [];
    for (let from = 0; from < starts.length; from += 10) {
      byTen.push({
        from: from + 1,
        to: Math.min(from + 10, starts.length),
        median_ms: median(starts.slice(from, from + 10)),
      });
    }
    return {
      asked,
      runtime: fleet.bottles[0]?.runtime ?? asked,
      count: fleet.bottles.length,
      asked_count: settings.count,
      start_failure: startFailure,
      start_ms: starts,
      start_by_ten: byTen,
      loadavg: { before: loadBefore, after_start: loadAfterStart, after: os.loadavg() },
      host: {
        before,
        after,
        after_stop: afterStop,
        per_bottle: (after - before) / Math.max(1, fleet.bottles.length),
        ramp_slope: slope(ramp),
        released_per_bottle: (after - afterStop) / Math.max(1, fleet.bottles.length),
      },
      idle,
      engine_per_bottle: (idle.engine - engineBefore) / Math.max(1, fleet.bottles.length),
      answered_once: answeredOnce,
      answers: { ok: answers.filter((a) => a.ok).length, failed: answers.filter((a) => !a.ok) },
      stop: { seconds: stopSeconds, leftovers },
    };
  } finally {
    if (upstream !== undefined) await removeUpstream(upstream);
    await fleet.removeAll();
  }
}
