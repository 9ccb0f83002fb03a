/**
 * Figures of `bench:egress`: per path, the medians of what the client measured, and ratios to the
 * reference path measured in the same run. Pure.
 */
import { median } from "../median.js";
import type { Sample } from "./client.js";

export interface PathFigures {
  /** Median MiB/s of the big downloads. */
  mibps: number;
  /** Median over rounds of each round's p50 / p99, in ms. */
  fresh_p50_ms: number;
  fresh_p99_ms: number;
  kept_p50_ms: number;
  kept_p99_ms: number;
}

export interface Compared extends PathFigures {
  /** Throughput over the reference's. */
  ratio: number;
  /** p50 added over the reference's, in ms. */
  fresh_added_ms: number;
  kept_added_ms: number;
  /** CPU time the proxy process used per MiB downloaded (proxy-alone rows). */
  proxy_cpu_ms_per_mib?: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

/** Figures from the samples of every round (per-round percentiles, then their medians). */
export function figuresOf(rounds: readonly Sample[]): PathFigures {
  const per = (pick: (s: Sample) => number[], p: number): number =>
    median(
      rounds
        .map((s) => pick(s))
        .filter((v) => v.length > 0)
        .map((v) => percentile(v, p)),
    );
  return {
    mibps: median(rounds.flatMap((s) => s.big)),
    fresh_p50_ms: per((s) => s.fresh, 50),
    fresh_p99_ms: per((s) => s.fresh, 99),
    kept_p50_ms: per((s) => s.kept, 50),
    kept_p99_ms: per((s) => s.kept, 99),
  };
}

export function compare(path: PathFigures, reference: PathFigures): Compared {
  return {
    ...path,
    ratio: reference.mibps > 0 ? path.mibps / reference.mibps : 0,
    fresh_added_ms: path.fresh_p50_ms - reference.fresh_p50_ms,
    kept_added_ms: path.kept_p50_ms - reference.kept_p50_ms,
  };
}

const pad = (text: string, width: number): string => text.padStart(width);

/** A table: one line per path. */
export function table(rows: readonly (readonly [string, Compared | string])[]): string[] {
  const head = `${"path".padEnd(28)}${pad("MiB/s", 9)}${pad("x ref", 7)}${pad("fresh p50", 11)}${pad("p99", 8)}${pad("+p50", 8)}${pad("kept p50", 10)}${pad("p99", 8)}${pad("+p50", 8)}${pad("cpu/MiB", 9)}`;
  const lines = [head];
  for (const [name, row] of rows) {
    if (typeof row === "string") {
      lines.push(`${name.padEnd(28)}${row}`);
      continue;
    }
    const ms = (v: number): string => v.toFixed(2);
    lines.push(
      `${name.padEnd(28)}${pad(row.mibps.toFixed(0), 9)}${pad(row.ratio.toFixed(2), 7)}${pad(ms(row.fresh_p50_ms), 11)}${pad(ms(row.fresh_p99_ms), 8)}${pad(ms(row.fresh_added_ms), 8)}${pad(ms(row.kept_p50_ms), 10)}${pad(ms(row.kept_p99_ms), 8)}${pad(ms(row.kept_added_ms), 8)}${pad(row.proxy_cpu_ms_per_mib === undefined ? "" : ms(row.proxy_cpu_ms_per_mib), 9)}`,
    );
  }
  return lines;
}
