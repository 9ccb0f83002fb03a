/**
 * `npm run bench:density [-- --json]`: COUNT (50) idle shell bottles started on this machine, one
 * after the other, under the runtime it resolves (`auto`: gVisor when available) or each of
 * RUNTIMES (e.g. `runc,runsc`). Prints start time as the count grows, the host's memory per bottle
 * (MemTotal - MemAvailable before and after, against the 40 MB target) with each part's share
 * (sidecar, agent and, under runsc, gVisor's processes, the host-side keeper and shims), whether
 * every bottle still answers (sidecar health, a denied and an allowed request from inside the
 * agent), then stops them all and checks nothing is left (scripts/bench-density/).
 *
 * Settings (environment): COUNT (50), RUNTIMES (`auto`), SETTLE_S (15, before the memory is
 * read), STOP_CONCURRENCY (4). Progress goes to stderr; `--json` prints one object.
 */
import os from "node:os";
import { printRatios, printRun, TARGET_MB } from "./bench-density/report.js";
import type { RuntimeResult } from "./bench-density/run.js";
import { runDensity } from "./bench-density/run.js";

const json = process.argv.includes("--json");
const settings = {
  count: Number(process.env["COUNT"] ?? "50"),
  settleS: Number(process.env["SETTLE_S"] ?? "15"),
  stopConcurrency: Number(process.env["STOP_CONCURRENCY"] ?? "4"),
};
const runtimes = (process.env["RUNTIMES"] ?? "auto").split(",").filter((r) => r !== "");

function log(line: string): void {
  process.stderr.write(`[bench:density ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
  const results: RuntimeResult[] = [];
  for (const runtime of runtimes) results.push(await runDensity(runtime, settings, log));
  if (json) {
    const report = { target_mb: TARGET_MB, cpus: os.cpus().length, settings, runtimes: results };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(
      [...results.flatMap((r) => [...printRun(r), ""]), ...printRatios(results), ""].join("\n"),
    );
  }
}

await main();
