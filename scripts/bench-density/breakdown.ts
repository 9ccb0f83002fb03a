/**
 * A fleet's memory split into its parts, each as a mean per bottle, for `bench:density`:
 * the sidecar's container, the agent's (under runsc split into gVisor's own processes and the
 * sandbox's memory file, which holds the agent's processes), the host-side processes each bottle
 * brings (its share of the state home's secret keeper, the containerd shims of its two containers), and how much the
 * engine's own processes grew. The rest of the host's growth is the kernel's (namespaces, bridges,
 * page tables, socket buffers).
 */
import type { Bottle } from "./fleet.js";
import type { CgroupMemory, ProcessMemory } from "./memory.js";
import {
  cgroupMemory,
  engineProcesses,
  processMemory,
  processTable,
  shimsOf,
  sum,
} from "./memory.js";

export interface Part {
  /** Proportional share (Pss) of the processes, or cgroup usage for a container. */
  total: number;
  /** Private anonymous memory (for a container: its cgroup's anonymous plus shared memory). */
  anon: number;
}

export interface Breakdown {
  bottles: number;
  sidecar: Part & { node: Part };
  agent: Part & { runtime: Part; sandbox_memory: number; app: Part };
  /** The home's keeper processes (one per home), their memory shared out over the bottles. */
  keeper: Part;
  /** How many keeper processes the bottles name (1 when they share their home's keeper). */
  keepers: number;
  shims: Part;
  /** Pss of dockerd and containerd together (the growth is taken between two breakdowns). */
  engine: number;
}

const mean = (values: number[]): number =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

function part(processes: ProcessMemory[]): Part {
  return { total: sum(processes, (p) => p.pss), anon: sum(processes, (p) => p.anon) };
}

function meanPart(parts: Part[]): Part {
  return { total: mean(parts.map((p) => p.total)), anon: mean(parts.map((p) => p.anon)) };
}

const isRuntimeProcess = (p: ProcessMemory): boolean =>
  p.name.startsWith("runsc") || p.name === "exe";

function containerPart(cgroup: CgroupMemory | undefined): Part {
  return cgroup === undefined
    ? { total: 0, anon: 0 }
    : { total: cgroup.usage, anon: cgroup.anon + cgroup.shmem };
}

/** The distinct keeper processes the bottles name, their memory divided by the bottles. */
function keeperShare(bottles: readonly Bottle[]): Part {
  const pids = [...new Set(bottles.map((b) => b.keeperPid))].filter(
    (pid): pid is number => pid !== undefined,
  );
  const all = part(pids.map(processMemory).filter((p): p is ProcessMemory => p !== undefined));
  const count = Math.max(bottles.length, 1);
  return { total: all.total / count, anon: all.anon / count };
}

/** Reads every part of every bottle now. */
export function breakdown(bottles: readonly Bottle[]): Breakdown {
  const table = processTable();
  const sidecars = bottles.map((b) => cgroupMemory(b.sidecar.pid));
  const agents = bottles.map((b) => cgroupMemory(b.agent.pid));
  const agentProcs = agents.map((a) => a?.processes ?? []);
  return {
    bottles: bottles.length,
    sidecar: {
      ...meanPart(sidecars.map(containerPart)),
      node: meanPart(
        sidecars.map((s) => part((s?.processes ?? []).filter((p) => p.name === "node"))),
      ),
    },
    agent: {
      ...meanPart(agents.map(containerPart)),
      runtime: meanPart(agentProcs.map((ps) => part(ps.filter(isRuntimeProcess)))),
      sandbox_memory: mean(agents.map((a) => a?.shmem ?? 0)),
      app: meanPart(agentProcs.map((ps) => part(ps.filter((p) => !isRuntimeProcess(p))))),
    },
    keeper: keeperShare(bottles),
    keepers: new Set(bottles.map((b) => b.keeperPid).filter((pid) => pid !== undefined)).size,
    shims: meanPart(
      bottles.map((b) =>
        part(
          shimsOf(table, [b.agent.id, b.sidecar.id])
            .map(processMemory)
            .filter((p): p is ProcessMemory => p !== undefined),
        ),
      ),
    ),
    engine: sum(
      engineProcesses(table)
        .map(processMemory)
        .filter((p): p is ProcessMemory => p !== undefined),
      (p) => p.pss,
    ),
  };
}
