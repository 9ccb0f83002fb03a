/**
 * The in-bottle report of `bench:egress`: every path's figures, each hop's share (the difference
 * of the paths around it) and the in-bottle targets. Pure.
 */
import type { PathFigures } from "./figures.js";
import { compare, table } from "./figures.js";
import type { Settings } from "./proxy-alone.js";

const ms = (v: number): string => `${v >= 0 ? "+" : ""}${v.toFixed(2)} ms`;

function hop(name: string, inner: PathFigures | undefined, outer: PathFigures | undefined): string {
  if (inner === undefined || outer === undefined) return `${name}: n/a`;
  const kept = outer.mibps > 0 && inner.mibps > 0 ? (outer.mibps / inner.mibps) * 100 : 0;
  return `${name.padEnd(44)} fresh ${ms(outer.fresh_p50_ms - inner.fresh_p50_ms).padStart(10)}   kept-alive ${ms(outer.kept_p50_ms - inner.kept_p50_ms).padStart(10)}   throughput ${inner.mibps.toFixed(0)} -> ${outer.mibps.toFixed(0)} MiB/s (${kept.toFixed(0)}%)`;
}

export function shareLines(
  runtime: string,
  settings: Settings,
  figures: Record<string, PathFigures>,
): string[] {
  const ref = figures["host direct (bridge)"];
  const loopRef = figures["host loopback direct"];
  if (ref === undefined || loopRef === undefined) return [`in a bottle (${runtime}): no figures`];
  const rows = Object.entries(figures).map(
    ([name, f]) => [name, compare(f, name.includes("loopback") ? loopRef : ref)] as const,
  );
  const lines = [
    `bench:egress from inside a bottle, runtime ${runtime}, ${settings.rounds} rounds (ratios and +p50 against host direct over the bridge; loopback rows against host loopback)`,
    ...table(rows),
    "",
    `each hop's share (${runtime}), p50 added:`,
  ];
  for (const mode of ["passthrough", "intercept"]) {
    const hostSocket = figures[`host > socket > ${mode}`];
    const bottleSocket = figures[`bottle > socket > ${mode}`];
    const bottleRelay = figures[`bottle > relay > ${mode}`];
    lines.push(
      hop(`  the proxy (sidecar, ${mode})`, ref, hostSocket),
      hop(
        `  unix socket from inside (${runtime === "runsc" ? "--host-uds" : "runc"})`,
        hostSocket,
        bottleSocket,
      ),
      hop(`  the relay's copy (and loopback into it)`, bottleSocket, bottleRelay),
    );
  }
  lines.push(
    hop(
      `  loopback and TLS inside the container alone`,
      loopRef,
      figures["bottle loopback direct"],
    ),
    "",
    `targets from inside a bottle (${runtime}), against the proxy alone (host > socket):`,
  );
  for (const mode of ["passthrough", "intercept"]) {
    const alone = figures[`host > socket > ${mode}`];
    const full = figures[`bottle > relay > ${mode}`];
    if (alone === undefined || full === undefined) continue;
    const half = full.mibps >= alone.mibps / 2;
    const small = full.fresh_p50_ms - alone.fresh_p50_ms;
    const kept = full.kept_p50_ms - alone.kept_p50_ms;
    lines.push(
      `${half ? "met    " : "NOT met"}  ${mode}: throughput >= half the proxy alone (${full.mibps.toFixed(0)} vs ${alone.mibps.toFixed(0)} MiB/s)`,
      `${small <= 2 ? "met    " : "NOT met"}  ${mode}: small request on a fresh tunnel <= 2 ms over the proxy alone (${ms(small)})`,
      `${kept <= 2 ? "met    " : "NOT met"}  ${mode}: small request in a kept-alive tunnel <= 2 ms over the proxy alone (${ms(kept)})`,
    );
  }
  return lines;
}
