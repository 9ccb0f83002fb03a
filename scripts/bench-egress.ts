/**
 * `npm run bench:egress [-- --json] [-- --no-bottle]`: the egress gate's throughput and latency
 * beside direct and beside squid, tinyproxy and mitmproxy, in one run, against a local HTTPS
 * upstream (scripts/bench-egress/). Then the path the agent really takes: from inside real
 * bottles (runc and runsc), through the relay and the sidecar, with each hop's share.
 *
 * Settings (environment): ROUNDS (5), BIG_MIB (64), FRESH (40 per round), KEPT (200 per round),
 * RUNTIMES (`runc,runsc`), PEERS (`squid,tinyproxy,mitmproxy`). The peers are Debian's packages; the bench installs nothing
 * (scripts/setup-bench.sh does). `--json` prints one object with every figure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Compared } from "./bench-egress/figures.js";
import { table } from "./bench-egress/figures.js";
import type { ProxyAloneResult, Settings } from "./bench-egress/proxy-alone.js";
import { proxyAlone } from "./bench-egress/proxy-alone.js";
import type { BottleResult } from "./bench-egress/in-bottle.js";
import { inBottle } from "./bench-egress/in-bottle.js";

const json = process.argv.includes("--json");
const withBottles = !process.argv.includes("--no-bottle");
const settings: Settings = {
  rounds: Number(process.env["ROUNDS"] ?? "5"),
  bigBytes: Number(process.env["BIG_MIB"] ?? "64") * 1024 * 1024,
  fresh: Number(process.env["FRESH"] ?? "40"),
  kept: Number(process.env["KEPT"] ?? "200"),
};
const runtimes = (process.env["RUNTIMES"] ?? "runc,runsc").split(",").filter((r) => r !== "");

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function targets(alone: ProxyAloneResult): string[] {
  const get = (name: string): Compared | undefined => {
    const row = alone.paths[name];
    return row !== undefined && !("skipped" in row) ? row : undefined;
  };
  const pass = get("gate passthrough");
  const intercept = get("gate intercept");
  const squid = get("squid");
  const check = (ok: boolean | undefined, text: string): string =>
    `${ok === true ? "met    " : ok === undefined ? "n/a    " : "NOT met"}  ${text}`;
  return [
    check(pass && pass.ratio >= 0.9, `passthrough >= 0.9x direct (${pass?.ratio.toFixed(2)}x)`),
    check(
      pass && squid ? pass.mibps >= squid.mibps : undefined,
      `passthrough >= squid (${pass?.mibps.toFixed(0)} vs ${squid?.mibps.toFixed(0)} MiB/s)`,
    ),
    check(
      intercept && intercept.ratio >= 0.5,
      `intercept >= 0.5x direct (${intercept?.ratio.toFixed(2)}x)`,
    ),
    check(
      pass && pass.fresh_added_ms <= 0.5,
      `fresh tunnel adds <= 0.5 ms p50, passthrough (${pass?.fresh_added_ms.toFixed(2)} ms)`,
    ),
    check(
      intercept && intercept.fresh_added_ms <= 3,
      `fresh tunnel adds <= 3 ms p50, intercept (${intercept?.fresh_added_ms.toFixed(2)} ms)`,
    ),
    check(
      pass && pass.kept_added_ms <= 0.2,
      `kept-alive adds <= 0.2 ms p50, passthrough (${pass?.kept_added_ms.toFixed(2)} ms)`,
    ),
    check(
      intercept && intercept.kept_added_ms <= 0.5,
      `kept-alive adds <= 0.5 ms p50, intercept (${intercept?.kept_added_ms.toFixed(2)} ms)`,
    ),
  ];
}

function print(alone: ProxyAloneResult, bottles: BottleResult[]): void {
  const s = alone.settings;
  const lines = [
    `bench:egress: proxy alone on TCP, ${s.rounds} rounds; each round ${s.bigBytes >> 20} MiB download, ${s.fresh} requests on fresh tunnels, ${s.kept} in one kept-alive tunnel (mitmproxy: 16 MiB and a quarter of the requests); medians, ms; ratios and +p50 against direct; cpu/MiB: the proxy process's CPU ms per MiB of the download`,
    ...table(
      Object.entries(alone.paths).map(
        ([name, row]) => [name, "skipped" in row ? `skipped: ${row.skipped}` : row] as const,
      ),
    ),
    "",
    "targets (proxy alone):",
    ...targets(alone),
  ];
  for (const bottle of bottles) lines.push("", ...bottle.lines);
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-egress-"));
  fs.chmodSync(dir, 0o755);
  try {
    const alone = await proxyAlone(dir, settings, log);
    const bottles: BottleResult[] = [];
    if (withBottles) {
      for (const runtime of runtimes) bottles.push(await inBottle(dir, runtime, settings, log));
    }
    if (json) {
      const result = {
        proxy_alone: alone,
        in_bottle: Object.fromEntries(bottles.map((b) => [b.runtime, b.figures])),
      };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else print(alone, bottles);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:egress: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
