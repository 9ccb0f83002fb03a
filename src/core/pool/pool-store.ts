/**
 * A warm pool's state in the state home: `$BOT_BOTTLE_HOME/pool/<agent>/`.
 *
 *   target.json               {size, manifest}: what `bottle pool AGENT --size N` asked for
 *   <identity>.ready.json     a pooled bottle ready to be taken (PoolEntry); written last, when
 *                             the bottle is up, idle and holds no secret
 *   <identity>.claimed.<pid>  taken by process <pid>: renamed from .ready.json, which is atomic,
 *                             so two concurrent starts never get the same bottle; removed when the
 *                             take is done (or turned into a discard when it is not handed out)
 *   <identity>.discard.json   not to be handed out (stale, dead, or no longer matching the
 *                             manifest): the refill removes the bottle
 *   refill.lock               the pid of the one refill process running for this agent
 *
 * The bottle itself is a normal state folder (`state/<identity>/`) with status `pooled`.
 * Reads and writes files only; nothing here holds a secret.
 */
import fs from "node:fs";
import path from "node:path";
import { botBottleHome } from "../host/paths.js";
import type { HostEnv } from "../host/paths.js";
import { readJson, writeJsonAtomic } from "../state/bottle-state.js";
import type { PoolSources } from "./pool-key.js";

export interface PoolEntry {
  identity: string;
  agent: string;
  /** The pool key at pool time (pool-key.ts). */
  key: string;
  sources: PoolSources;
  created_at: string;
}

export interface PoolTarget {
  agent: string;
  size: number;
  /** The manifest the pool is filled from (absolute path). */
  manifest: string;
}

export function poolHome(host: HostEnv): string {
  return path.join(botBottleHome(host), "pool");
}

export function agentPoolDir(host: HostEnv, agent: string): string {
  return path.join(poolHome(host), agent);
}

/** The refill processes' log (no secrets: what was started, discarded, failed). */
export function refillLog(host: HostEnv): string {
  return path.join(poolHome(host), "refill.log");
}

const isString = (v: unknown): v is string => typeof v === "string";
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** A pool entry read from disk, checked field by field; undefined when it is not one. */
export function parsePoolEntry(value: unknown): PoolEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const s = v["sources"];
  if (typeof s !== "object" || s === null) return undefined;
  const src = s as Record<string, unknown>;
  const recipe = src["agent_recipe"] as Record<string, unknown> | null | undefined;
  const ok =
    isString(v["identity"]) &&
    /^[a-z0-9][a-z0-9_.-]*$/i.test(v["identity"]) &&
    isString(v["agent"]) &&
    isString(v["key"]) &&
    isString(v["created_at"]) &&
    isString(src["manifest"]) &&
    isStrings(src["files"]) &&
    isStrings(src["dirs"]) &&
    isStrings(src["env"]) &&
    isString(src["salt"]) &&
    typeof recipe === "object" &&
    recipe !== null &&
    isString(recipe["dockerfile"]) &&
    isString(recipe["base"]);
  return ok ? (value as PoolEntry) : undefined;
}

export function readTarget(host: HostEnv, agent: string): PoolTarget | undefined {
  const value = readJson(path.join(agentPoolDir(host, agent), "target.json"));
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const size = v["size"];
  return typeof size === "number" && Number.isInteger(size) && size >= 0 && isString(v["manifest"])
    ? { agent, size, manifest: v["manifest"] }
    : undefined;
}

export function writeTarget(host: HostEnv, target: PoolTarget): void {
  writeJsonAtomic(path.join(agentPoolDir(host, target.agent), "target.json"), target);
}

/** Agents that have a pool folder (a target set once). */
export function pooledAgents(host: HostEnv): string[] {
  try {
    return fs
      .readdirSync(poolHome(host), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** The names in the agent's pool folder; none while it does not exist (or cannot be read). */
function entryNames(host: HostEnv, agent: string): string[] {
  try {
    return fs.readdirSync(agentPoolDir(host, agent));
  } catch {
    return [];
  }
}

function entryFile(host: HostEnv, agent: string, identity: string, state: string): string {
  return path.join(agentPoolDir(host, agent), `${identity}.${state}`);
}

/** Records a pooled bottle as ready to be taken (the last step of pooling it). */
export function writeReady(host: HostEnv, entry: PoolEntry): void {
  writeJsonAtomic(entryFile(host, entry.agent, entry.identity, "ready.json"), entry);
}

/** Entries in one state (`ready.json`, `discard.json`), oldest first; unreadable ones skipped. */
export function listEntries(
  host: HostEnv,
  agent: string,
  state: "ready.json" | "discard.json",
): PoolEntry[] {
  return entryNames(host, agent)
    .filter((name) => name.endsWith(`.${state}`))
    .map((name) => parsePoolEntry(readJson(path.join(agentPoolDir(host, agent), name))))
    .filter((entry): entry is PoolEntry => entry !== undefined)
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

/**
 * Claims a ready bottle for this process: true for exactly one of any number of concurrent
 * callers (rename is atomic; the others find the file gone).
 */
export function claim(host: HostEnv, entry: PoolEntry, pid = process.pid): boolean {
  try {
    fs.renameSync(
      entryFile(host, entry.agent, entry.identity, "ready.json"),
      entryFile(host, entry.agent, entry.identity, `claimed.${String(pid)}`),
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a claim: the bottle was handed out (`done`), is to be removed (`discard`), or goes back to
 * the pool untouched (`release`: the start could not use it, e.g. its model token is not set).
 */
export function endClaim(
  host: HostEnv,
  entry: PoolEntry,
  outcome: "done" | "discard" | "release",
  pid = process.pid,
): void {
  const claimed = entryFile(host, entry.agent, entry.identity, `claimed.${String(pid)}`);
  if (outcome === "done") fs.rmSync(claimed, { force: true });
  else {
    const state = outcome === "discard" ? "discard.json" : "ready.json";
    fs.renameSync(claimed, entryFile(host, entry.agent, entry.identity, state));
  }
}

/** Removes every record of a pooled bottle (after its engine objects and state are gone). */
export function forgetEntry(host: HostEnv, agent: string, identity: string): void {
  const dir = agentPoolDir(host, agent);
  for (const name of entryNames(host, agent))
    if (name.startsWith(`${identity}.`)) fs.rmSync(path.join(dir, name), { force: true });
}

/** Claims whose process is gone (a start killed half-way): their bottles are to be removed. */
export function abandonedClaims(host: HostEnv, agent: string, alive: (pid: number) => boolean) {
  return entryNames(host, agent)
    .map((name) => /^(.+)\.claimed\.(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && !alive(Number(m[2])))
    .map((m) => ({ identity: m[1] ?? "", pid: Number(m[2]) }));
}

/**
 * Takes the agent's refill lock: true when this process holds it. A lock whose process is gone
 * is taken over.
 */
export function takeRefillLock(
  host: HostEnv,
  agent: string,
  alive: (pid: number) => boolean,
  pid = process.pid,
): boolean {
  const file = path.join(agentPoolDir(host, agent), "refill.lock");
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${String(pid)}\n`, { flag: "wx", mode: 0o600 });
      return true;
    } catch {
      let holder: number;
      try {
        holder = Number(fs.readFileSync(file, "utf8").trim());
      } catch {
        continue; // released meanwhile: try again
      }
      if (holder === pid) return true;
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
      fs.rmSync(file, { force: true });
    }
  }
  return false;
}

export function releaseRefillLock(host: HostEnv, agent: string, pid = process.pid): void {
  const file = path.join(agentPoolDir(host, agent), "refill.lock");
  try {
    if (Number(fs.readFileSync(file, "utf8").trim()) === pid) fs.rmSync(file, { force: true });
  } catch {
    // Not held.
  }
}
