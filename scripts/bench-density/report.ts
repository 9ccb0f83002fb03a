/** The printed table of one `bench:density` run (the --json form is the result itself). */
import type { Breakdown, Part } from "./breakdown.js";
import { MB } from "./memory.js";
import type { RuntimeResult } from "./run.js";

/** Host memory per idle bottle the issue asks for, in MB (10^6 bytes). */
export const TARGET_MB = 40;

const mb = (bytes: number): string => (bytes / MB).toFixed(1).padStart(6);
const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(" ");

function row(name: string, part: Part, note = ""): string {
  return `  ${name.padEnd(46)}${mb(part.total)}${mb(part.anon)}  ${note}`;
}

function parts(b: Breakdown, enginePerBottle: number, runtime: string): string[] {
  const lines = [
    `  ${"part (mean per bottle)".padEnd(46)}${"total".padStart(6)}${"anon".padStart(6)}  (MB; containers: cgroup usage / anonymous + shared; processes: Pss / anonymous)`,
    row("sidecar container", b.sidecar),
    row("  its node process", b.sidecar.node),
    row("agent container", b.agent),
  ];
  if (runtime === "runsc") {
    lines.push(row("  gVisor's processes (sentry, gofer)", b.agent.runtime));
    lines.push(
      `  ${"  sandbox memory file (the relay, in gVisor)".padEnd(46)}${mb(b.agent.sandbox_memory)}`,
    );
  } else {
    lines.push(row("  its processes (relay, init)", b.agent.app));
  }
  lines.push(
    row(
      "secret keeper (host node process), share",
      b.keeper,
      `${String(b.keepers)} process(es) for ${String(b.bottles)} bottles`,
    ),
  );
  lines.push(row("containerd shims (2)", b.shims));
  lines.push(`  ${"dockerd + containerd growth".padEnd(46)}${mb(enginePerBottle)}`);
  return lines;
}

/** The sum of the parts the host pays for a bottle (anonymous and shared memory, no page cache). */
export function accounted(r: RuntimeResult): number {
  const b = r.idle;
  return b.sidecar.anon + b.agent.anon + b.keeper.anon + b.shims.anon + r.engine_per_bottle;
}

export function printRun(r: RuntimeResult): string[] {
  const perBottle = r.host.per_bottle / MB;
  const first = r.start_by_ten[0]?.median_ms ?? 0;
  const last = r.start_by_ten[r.start_by_ten.length - 1]?.median_ms ?? 0;
  const left = r.stop.leftovers;
  const nothingLeft =
    left.containers.length +
      left.networks.length +
      left.volumes.length +
      left.state_not_stopped.length +
      left.keepers_alive.length ===
    0;
  const rest = r.host.per_bottle - accounted(r);
  const lines = [
    `runtime ${r.runtime} (manifest: ${r.asked}), ${String(r.count)} idle shell bottles of ${String(r.asked_count)} asked`,
    ...(r.start_failure === null
      ? []
      : [
          `  bottle ${String(r.start_failure.at)} did not start, so no more were tried: ${r.start_failure.reason}`,
        ]),
    `load average before ${load(r.loadavg.before)}, after the starts ${load(r.loadavg.after_start)}, at the end ${load(r.loadavg.after)}`,
    "start time as the count grows (bottle start --detach, median ms):",
    ...r.start_by_ten.map(
      (t) =>
        `  bottles ${`${String(t.from)}-${String(t.to)}`.padEnd(8)}${t.median_ms.toFixed(0).padStart(7)}`,
    ),
    `  ratio last ten / first ten: ${(first > 0 ? last / first : 0).toFixed(2)}x`,
    `host memory (MemTotal - MemAvailable): before ${mb(r.host.before)} MB, after ${mb(r.host.after)} MB`,
    `  per bottle: ${perBottle.toFixed(1)} MB; target <= ${String(TARGET_MB)} MB: ${perBottle <= TARGET_MB ? "met" : "NOT met"} (${(perBottle / TARGET_MB).toFixed(2)}x the target)`,
    `  cross-checks: slope over the ramp ${(r.host.ramp_slope / MB).toFixed(1)} MB per bottle; given back at stop ${(r.host.released_per_bottle / MB).toFixed(1)} MB per bottle (the machine is shared: others' work moves these)`,
    ...parts(r.idle, r.engine_per_bottle, r.runtime),
    `  ${"the parts' anonymous memory together".padEnd(46)}${mb(accounted(r))}  (${((accounted(r) / r.host.per_bottle) * 100).toFixed(0)}% of the host's growth)`,
    `  ${"the rest (kernel, network, page tables)".padEnd(46)}${mb(rest)}`,
    `after each bottle answered once: sidecar ${mb(r.answered_once.sidecar.total).trim()} MB, agent ${mb(r.answered_once.agent.total).trim()} MB (cgroup usage, mean)`,
    `answers: ${String(r.answers.ok)} of ${String(r.count)} bottles answered (sidecar health ready, a denied request 403 from the gate, an allowed one the upstream's answer)`,
    ...r.answers.failed
      .slice(0, 5)
      .map(
        (a) => `  ${a.identity}: health ${a.health}; denied "${a.denied}"; allowed "${a.allowed}"`,
      ),
    `stopped all in ${r.stop.seconds.toFixed(0)} s; left: ${String(left.containers.length)} containers, ${String(left.networks.length)} networks, ${String(left.volumes.length)} volumes, ${String(left.state_not_stopped.length)} state folders not marked stopped, ${String(left.keepers_alive.length)} keepers: ${nothingLeft ? "nothing left" : "LEFTOVERS"}`,
  ];
  return lines;
}

/** Ratios between runtimes measured in the same run (the first is the reference). */
export function printRatios(results: RuntimeResult[]): string[] {
  const [reference, ...others] = results;
  if (reference === undefined || others.length === 0) return [];
  return others.map(
    (r) =>
      `${r.runtime} / ${reference.runtime}: memory per bottle ${(r.host.per_bottle / reference.host.per_bottle).toFixed(2)}x, median start ${(median(r) / median(reference)).toFixed(2)}x`,
  );
}

function median(r: RuntimeResult): number {
  const sorted = [...r.start_ms].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
