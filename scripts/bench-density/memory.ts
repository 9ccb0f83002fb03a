/**
 * Where a bottle's memory is, for `bench:density`, read from Linux itself:
 *
 * - the host as a whole: /proc/meminfo MemTotal - MemAvailable (what the host really pays,
 *   kernel included; noisy on a shared machine, so read a few times and averaged);
 * - each container's memory cgroup (v1 `memory.usage_in_bytes` and `memory.stat`, or v2
 *   `memory.current`): usage, anonymous memory, shared memory (under runsc the sandbox's memory
 *   file, i.e. the agent's own processes), and the processes in it;
 * - a process's proportional share (smaps_rollup Pss: pages shared with other bottles, like the
 *   node binary, are split between them) and its private anonymous memory.
 */
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export const MB = 1e6;

/** MemTotal - MemAvailable in bytes, averaged over `reads` reads `gapMs` apart. */
export async function hostUsed(reads = 3, gapMs = 1000): Promise<number> {
  let sum = 0;
  for (let i = 0; i < reads; i++) {
    if (i > 0) await sleep(gapMs);
    const text = fs.readFileSync("/proc/meminfo", "utf8");
    const kb = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
    sum += (kb("MemTotal") - kb("MemAvailable")) * 1024;
  }
  return sum / reads;
}

export interface ProcessMemory {
  pid: number;
  name: string;
  /** Proportional set size: shared pages split between the processes that map them. */
  pss: number;
  /** Private anonymous memory (heap, stacks). */
  anon: number;
}

/** One process's memory, or undefined when it is gone or unreadable. */
export function processMemory(pid: number): ProcessMemory | undefined {
  try {
    const text = fs.readFileSync(`/proc/${String(pid)}/smaps_rollup`, "utf8");
    const kb = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
    const cmd = fs.readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").split("\0");
    return { pid, name: processName(pid, cmd), pss: kb("Pss"), anon: kb("Anonymous") };
  } catch {
    return undefined;
  }
}

/** runsc's processes are all `exe`; their first argument names them (runsc-sandbox, runsc-gofer). */
function processName(pid: number, cmd: string[]): string {
  const first = cmd[0] ?? "";
  if (first.startsWith("runsc-")) return first;
  try {
    return fs.readFileSync(`/proc/${String(pid)}/comm`, "utf8").trim();
  } catch {
    return first;
  }
}

export interface CgroupMemory {
  /** Everything charged to the cgroup (anonymous, page cache, shared memory, kernel on v2). */
  usage: number;
  anon: number;
  /** Shared memory: under runsc, the sandbox's memory file (the agent's processes' memory). */
  shmem: number;
  /** Page cache charged here (files first read by this container). */
  cache: number;
  processes: ProcessMemory[];
}

/** The memory cgroup folder of a process (v1 memory controller, else the v2 unified tree). */
function cgroupDir(pid: number): string | undefined {
  const lines = fs.readFileSync(`/proc/${String(pid)}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (v1 !== undefined) return `/sys/fs/cgroup/memory${v1.slice(v1.lastIndexOf(":") + 1)}`;
  const v2 = lines.find((l) => l.startsWith("0::"));
  return v2 === undefined ? undefined : `/sys/fs/cgroup${v2.slice(3)}`;
}

function readStat(dir: string): Map<string, number> {
  const stat = new Map<string, number>();
  for (const line of fs.readFileSync(`${dir}/memory.stat`, "utf8").split("\n")) {
    const [key, value] = line.split(" ");
    if (key !== undefined && value !== undefined) stat.set(key, Number(value));
  }
  return stat;
}

/** The memory cgroup of the container whose main process is `pid`; undefined when not found. */
export function cgroupMemory(pid: number): CgroupMemory | undefined {
  try {
    const dir = cgroupDir(pid);
    if (dir === undefined) return undefined;
    const v1 = fs.existsSync(`${dir}/memory.usage_in_bytes`);
    const usage = Number(
      fs.readFileSync(`${dir}/${v1 ? "memory.usage_in_bytes" : "memory.current"}`, "utf8"),
    );
    const stat = readStat(dir);
    const get = (key: string): number => stat.get(key) ?? 0;
    const pids = fs
      .readFileSync(`${dir}/cgroup.procs`, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map(Number);
    return {
      usage,
      anon: v1 ? get("total_rss") : get("anon"),
      shmem: v1 ? get("total_shmem") : get("shmem"),
      cache: v1 ? get("total_cache") : get("file"),
      processes: pids.map(processMemory).filter((p): p is ProcessMemory => p !== undefined),
    };
  } catch {
    return undefined;
  }
}

/** Every process's pid with its command line, read once (to find the shims of given containers). */
export function processTable(): Map<number, string[]> {
  const table = new Map<number, string[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      table.set(Number(entry), fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0"));
    } catch {
      // Gone meanwhile.
    }
  }
  return table;
}

/** The containerd shims of the given container ids (`containerd-shim-* ... -id <id>`). */
export function shimsOf(table: Map<number, string[]>, containerIds: readonly string[]): number[] {
  const wanted = new Set(containerIds);
  const pids: number[] = [];
  for (const [pid, cmd] of table) {
    if (!(cmd[0] ?? "").includes("containerd-shim")) continue;
    const id = cmd[cmd.indexOf("-id") + 1];
    if (cmd.includes("-id") && id !== undefined && wanted.has(id)) pids.push(pid);
  }
  return pids;
}

/** The engine's own processes (dockerd, containerd): they grow with every container too. */
export function engineProcesses(table: Map<number, string[]>): number[] {
  return [...table]
    .filter(([, cmd]) => /(^|\/)(dockerd|containerd)$/.test(cmd[0] ?? ""))
    .map(([pid]) => pid);
}

/** Sum of a field over processes. */
export function sum<T>(items: readonly T[], field: (item: T) => number): number {
  return items.reduce((total, item) => total + field(item), 0);
}
