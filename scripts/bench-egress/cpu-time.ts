/**
 * CPU time a process and its descendants have used, from /proc (Linux), in ms; 0 where /proc
 * cannot be read. `bench:egress` reads it around a download to give each proxy's CPU per MiB.
 */
import fs from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on Linux.

function stat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), from field 3 (state) on.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

export function cpuMs(root: number): number {
  const parents = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const info = stat(Number(name));
    if (info === null) continue;
    ticks.set(Number(name), info.ticks);
    parents.set(info.ppid, [...(parents.get(info.ppid) ?? []), Number(name)]);
  }
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() ?? 0;
    total += ticks.get(pid) ?? 0;
    queue.push(...(parents.get(pid) ?? []));
  }
  return total * TICK_MS;
}
