/**
 * Per-bottle state on the host: `$BOT_BOTTLE_HOME/state/<identity>/`.
 *
 *   metadata.json    identity, agent, backend, runtime, cwd, started_at, images, status
 *   plan.json        the plan the bottle was started with (resume starts it again)
 *   sidecar.json     the sidecar's configuration (policy; never a secret)
 *   audit/           JSONL audit logs written by the sidecar (egress.jsonl, ...)
 *   control/         the sidecar's control socket: reachable from the host only
 *   workspace.tar    the agent's workspace, saved by `stop` for `resume`
 *   home.tar         the agent's home (conversation transcripts, shell history), likewise
 *
 * Kept across `stop` so `resume` can start the same bottle again; removed by `cleanup` only when
 * stale (a start that never finished).
 */
import fs from "node:fs";
import path from "node:path";
import type { HostEnv } from "../host/paths.js";
import { stateDir } from "../host/paths.js";
import type { BottlePlan } from "../plan/bottle-plan.js";

/**
 * `restarting`: stopped for an image change and coming back at once (same identity). `pooled`: a
 * warm pool's bottle, up and idle without its secrets until a `bottle start` takes it (then
 * `running`); see core/pool/.
 */
export type BottleStatus = "starting" | "running" | "stopped" | "failed" | "restarting" | "pooled";

export interface BottleMetadata {
  identity: string;
  agent: string;
  bottle: string;
  provider: string;
  backend: "docker";
  runtime: string;
  cwd: string | null;
  manifest: string;
  started_at: string;
  stopped_at: string | null;
  images: { agent: string; sidecar: string };
  status: BottleStatus;
  /** Whether the bottle was started with --detach (attach then does not tear it down). */
  detached: boolean;
  /** Process of the `bottle start` or `resume` bringing it up; a dead one means an abandoned start. */
  starter_pid?: number;
}

export interface BottlePaths {
  dir: string;
  metadata: string;
  plan: string;
  sidecarConfig: string;
  auditDir: string;
  egressAudit: string;
  controlDir: string;
  controlSocket: string;
  workspaceArchive: string;
  homeArchive: string;
}

export function bottlePaths(host: HostEnv, identity: string): BottlePaths {
  return bottlePathsIn(path.join(stateDir(host), identity));
}

/** The files of a bottle whose state folder is `dir` (of any home). */
export function bottlePathsIn(dir: string): BottlePaths {
  return {
    dir,
    metadata: path.join(dir, "metadata.json"),
    plan: path.join(dir, "plan.json"),
    sidecarConfig: path.join(dir, "sidecar.json"),
    auditDir: path.join(dir, "audit"),
    egressAudit: path.join(dir, "audit", "egress.jsonl"),
    controlDir: path.join(dir, "control"),
    controlSocket: path.join(dir, "control", "control.sock"),
    workspaceArchive: path.join(dir, "workspace.tar"),
    homeArchive: path.join(dir, "home.tar"),
  };
}

/** Writes JSON atomically (temp file + rename), so a killed process never leaves half a file. */
export function writeJsonAtomic(file: string, value: unknown, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  fs.renameSync(temp, file);
}

/** Parsed JSON of a file, or undefined when it is missing or unreadable. */
export function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** Creates the bottle's state folders. */
export function createBottleState(paths: BottlePaths): void {
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(paths.auditDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(paths.controlDir, { recursive: true, mode: 0o700 });
}

export function readMetadata(paths: BottlePaths): BottleMetadata | undefined {
  return readJson(paths.metadata) as BottleMetadata | undefined;
}

export function writeMetadata(paths: BottlePaths, metadata: BottleMetadata): void {
  writeJsonAtomic(paths.metadata, metadata);
}

export function updateStatus(paths: BottlePaths, status: BottleStatus, now = new Date()): void {
  const current = readMetadata(paths);
  if (current === undefined) return;
  writeMetadata(paths, {
    ...current,
    status,
    stopped_at: status === "stopped" ? now.toISOString() : current.stopped_at,
  });
}

export function readPlan(paths: BottlePaths): BottlePlan | undefined {
  return readJson(paths.plan) as BottlePlan | undefined;
}

/** Identities that have a state folder. */
export function listStateIdentities(host: HostEnv): string[] {
  const dir = stateDir(host);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => fs.statSync(path.join(dir, name)).isDirectory())
    .sort();
}

export function metadataFromPlan(
  plan: BottlePlan,
  startedAt: Date,
  detached: boolean,
): BottleMetadata {
  return {
    identity: plan.identity,
    agent: plan.agent,
    bottle: plan.bottle,
    provider: plan.provider,
    backend: "docker",
    runtime: plan.runtime.resolved,
    cwd: plan.workspace.copy_from,
    manifest: plan.manifest,
    started_at: startedAt.toISOString(),
    stopped_at: null,
    images: { agent: plan.images.agent.tag, sidecar: plan.images.sidecar.tag },
    status: "starting",
    detached,
  };
}
