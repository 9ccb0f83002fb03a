/**
 * `bottle cleanup` on the Docker engine: what is left of bottles that are not running (engine
 * objects, state of starts that never finished), and its removal. Never counts as a leftover a
 * bottle whose sidecar still answers when this home cannot see its state.
 */
import fs from "node:fs";
import type { BackendContext } from "./backend-context.js";
import { homeTagOf } from "./backend-context.js";
import { probeSidecar } from "./control-client.js";
import type { BottleObjects } from "./engine-objects.js";
import { findBottleObjects, removeBottleObjects, sidecarStateFolder } from "./engine-objects.js";
import type { BottleMetadata } from "../../core/state/bottle-state.js";
import {
  bottlePaths,
  bottlePathsIn,
  listStateIdentities,
  readMetadata,
} from "../../core/state/bottle-state.js";
import { processAlive } from "../../core/host/process-alive.js";
import { SIDECAR_STATE_DIR } from "../../sidecar/sidecar-config.js";

export interface Leftovers {
  /** Engine objects of bottles that are not running. */
  objects: BottleObjects[];
  /** State folders of starts that never finished. */
  staleState: string[];
  /** Bottles of other state homes left alone (cleanup without --all-homes). */
  otherHomes: number;
  /** Bottles that look left over but whose sidecar answers: never removed. */
  alive: string[];
}

/** Objects of this home: labelled with it, or unlabelled (older) with a state folder here. */
export function isOwn(ctx: BackendContext, group: BottleObjects): boolean {
  if (group.home !== undefined) return group.home === homeTagOf(ctx.host);
  return fs.existsSync(bottlePaths(ctx.host, group.identity).dir);
}

/**
 * Whether a bottle with no state here is alive in its own home: that home's state (the folder
 * the sidecar mounts) says it runs, or its running sidecar answers health. Fails toward keeping.
 */
async function sidecarAnswers(ctx: BackendContext, group: BottleObjects): Promise<boolean> {
  const sidecar = group.containers.find((c) => c.role === "sidecar");
  if (sidecar === undefined) return false;
  const folder = await sidecarStateFolder(ctx.docker, sidecar.id, SIDECAR_STATE_DIR);
  if (folder === undefined) return false;
  const paths = bottlePathsIn(folder);
  let status: string | undefined;
  try {
    status = readMetadata(paths)?.status;
  } catch {
    return true; // unreadable: not ours to judge
  }
  if (status === "running" || status === "pooled" || status === "restarting") return true;
  return sidecar.state === "running" && (await probeSidecar(paths.controlSocket));
}

/**
 * What cleanup would remove: objects of this home's bottles that are not running (of every
 * home with allHomes), and state of unfinished starts. A bottle with no state folder here
 * whose sidecar answers health is never a leftover; one whose own state says its start failed
 * or its starter died is, even if its sidecar (without its secrets) still answers.
 */
export async function findLeftovers(
  ctx: BackendContext,
  options: { allHomes: boolean },
): Promise<Leftovers> {
  const groups = await findBottleObjects(ctx.docker);
  const leftovers: Leftovers = { objects: [], staleState: [], otherHomes: 0, alive: [] };
  const pooledDead = new Set<string>();
  const bothRunning = (group: BottleObjects): boolean =>
    ["agent", "sidecar"].every((role) =>
      group.containers.some((c) => c.role === role && c.state === "running"),
    );
  const isStale = (m: BottleMetadata | undefined): boolean =>
    m === undefined ||
    m.status === "failed" ||
    (m.status === "starting" && (m.starter_pid === undefined || !processAlive(m.starter_pid)));
  for (const [identity, group] of groups) {
    if (!options.allHomes && !isOwn(ctx, group)) {
      leftovers.otherHomes++;
      continue;
    }
    const metadata = isOwn(ctx, group) ? readMetadata(bottlePaths(ctx.host, identity)) : undefined;
    if (metadata?.status === "running" || (metadata?.status === "starting" && !isStale(metadata)))
      continue;
    // A pooled bottle is kept while both its containers run; a dead one is a leftover.
    if (metadata?.status === "pooled") {
      if (bothRunning(group)) continue;
      pooledDead.add(identity);
    }
    // Without state here, the bottle may be a live one of a home we cannot see: ask it.
    if (metadata === undefined && (await sidecarAnswers(ctx, group)))
      leftovers.alive.push(identity);
    else leftovers.objects.push(group);
  }
  for (const identity of listStateIdentities(ctx.host)) {
    if (leftovers.alive.includes(identity)) continue;
    const metadata = readMetadata(bottlePaths(ctx.host, identity));
    const pooledGone =
      metadata?.status === "pooled" && (pooledDead.has(identity) || !groups.has(identity));
    if (pooledGone || isStale(metadata)) leftovers.staleState.push(identity);
  }
  return leftovers;
}

export async function removeLeftovers(ctx: BackendContext, leftovers: Leftovers): Promise<void> {
  for (const group of leftovers.objects) await removeBottleObjects(ctx.docker, group.identity);
  for (const identity of leftovers.staleState)
    fs.rmSync(bottlePaths(ctx.host, identity).dir, { recursive: true, force: true });
}
