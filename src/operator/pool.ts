/**
 * Warm pools (`bottle pool AGENT --size N`): N bottles of an agent kept up and idle, without
 * their secrets, for `bottle start AGENT` to take (backend/docker/take-pooled.ts). What a pool is
 * keyed by and what is done when: docs/ARCHITECTURE.md, "Warm pools".
 *
 * `refillPool` brings the agent's ready bottles to its target: it removes the ones set aside
 * (stale, dead, no longer matching the manifest, abandoned by a killed start) and the ones over
 * the target, and pools new ones. One refill runs per agent at a time (a lock file); a refill
 * that finds the lock held leaves the work to the one holding it, which looks again before it ends.
 */
import { processAlive } from "../core/host/process-alive.js";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createDockerClient, engineFacts, readEngineInfo } from "../backend/docker/engine.js";
import { pooledRefusal } from "../backend/docker/take-pooled.js";
import { BottleError } from "../core/errors.js";
import { gatherHostFacts } from "../core/host/host-facts.js";
import { packageRoot } from "../core/host/package-root.js";
import { findManifest, loadManifestFile } from "../core/manifest/load.js";
import type { BottlePlan } from "../core/plan/bottle-plan.js";
import { makePlan } from "../core/plan/make-plan.js";
import { withRuntime } from "../core/plan/process-limits.js";
import { resolveRuntime } from "../core/plan/runtime.js";
import { poolKey, sourcesFromPlan } from "../core/pool/pool-key.js";
import { readPoolReadings } from "../core/pool/pool-readings.js";
import type { PoolEntry, PoolTarget } from "../core/pool/pool-store.js";
import {
  abandonedClaims,
  claim,
  endClaim,
  forgetEntry,
  listEntries,
  pooledAgents,
  readTarget,
  releaseRefillLock,
  takeRefillLock,
  writeReady,
  writeTarget,
} from "../core/pool/pool-store.js";
import type { OperatorContext } from "./operator-context.js";

export interface PoolStatus {
  agent: string;
  size: number;
  manifest: string;
  ready: { identity: string; created_at: string }[];
}

type Progress = (line: string) => void;

/** Every agent's pool: its target and the bottles ready to be taken. */
export function poolStatus(op: OperatorContext): PoolStatus[] {
  return pooledAgents(op.host).flatMap((agent) => {
    const target = readTarget(op.host, agent);
    if (target === undefined) return [];
    return [
      {
        ...target,
        ready: listEntries(op.host, agent, "ready.json").map(({ identity, created_at }) => ({
          identity,
          created_at,
        })),
      },
    ];
  });
}

/** The plan a `bottle start AGENT` would make now, without `--cwd`. */
async function planNow(op: OperatorContext, agent: string, manifestPath: string, suffix?: string) {
  const { path: file, manifest } = loadManifestFile(manifestPath, op.host);
  const facts = gatherHostFacts(op.host, manifest, file, agent, undefined);
  const draft = makePlan(
    manifest,
    { agent },
    { ...facts, ...(suffix ? { identitySuffix: suffix } : {}) },
  );
  const engine = engineFacts(await readEngineInfo(createDockerClient(op.host.env)));
  return withRuntime(draft, resolveRuntime(draft.runtime.requested, engine));
}

/**
 * Pools one bottle: plans it, reads its key's sources, plans again and requires the same plan
 * (so nothing the plan rests on changed while the key was read), launches it without secrets
 * and records it ready.
 */
async function poolOne(op: OperatorContext, target: PoolTarget, progress: Progress) {
  const plan = await planNow(op, target.agent, target.manifest);
  const sources = sourcesFromPlan(plan, randomBytes(16).toString("hex"));
  const key = poolKey(readPoolReadings(op.host, target.agent, sources, packageRoot()));
  const suffix = plan.identity.slice(target.agent.length + 1);
  const again: BottlePlan = await planNow(op, target.agent, target.manifest, suffix);
  if (JSON.stringify(again) !== JSON.stringify(plan))
    throw new BottleError(
      "launch_failed",
      `The manifest or host changed while pooling ${plan.identity}; try again.`,
    );
  progress(`pooling ${plan.identity}`);
  await (await op.backend()).startPooled(plan, progress);
  const entry: PoolEntry = {
    identity: plan.identity,
    agent: target.agent,
    key,
    sources,
    created_at: new Date().toISOString(),
  };
  writeReady(op.host, entry);
  progress(`${plan.identity} is pooled (idle, no secrets)`);
}

/** Removes a pooled bottle that is not to be handed out: engine objects, state, pool records. */
async function removePooled(
  op: OperatorContext,
  agent: string,
  identity: string,
  why: string,
  progress: Progress,
) {
  await (await op.backend()).discard(identity);
  forgetEntry(op.host, agent, identity);
  progress(`removed ${identity} (${why})`);
}

/** Removes what is set aside, what no longer matches, and what is over the target. */
async function sweep(
  op: OperatorContext,
  agent: string,
  target: { size: number; manifest?: string },
  progress: Progress,
) {
  for (const entry of listEntries(op.host, agent, "discard.json"))
    await removePooled(op, agent, entry.identity, "set aside", progress);
  for (const { identity } of abandonedClaims(op.host, agent, processAlive))
    await removePooled(op, agent, identity, "its start was killed", progress);
  const root = packageRoot();
  let kept = 0;
  for (const entry of listEntries(op.host, agent, "ready.json")) {
    const why =
      kept >= target.size
        ? "over the pool's size"
        : target.manifest !== undefined && entry.sources.manifest !== target.manifest
          ? "made from another manifest"
          : await pooledRefusal(op.host, entry, root);
    if (why === undefined) {
      kept++;
      continue;
    }
    if (claim(op.host, entry)) {
      endClaim(op.host, entry, "discard");
      await removePooled(op, agent, entry.identity, why, progress);
    }
  }
}

/**
 * Pools one bottle, trying again twice after a failure (a start can fail on a loaded machine, a
 * sidecar slow to say ready): the pool is refilled again only at the next take otherwise.
 */
async function poolWithRetries(op: OperatorContext, target: PoolTarget, progress: Progress) {
  for (let attempt = 1; ; attempt++) {
    try {
      await poolOne(op, target, progress);
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      progress(
        `pooling failed (${error instanceof Error ? error.message : String(error)}); trying again`,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
    }
  }
}

/**
 * Brings the agent's pool to its target. Returns without waiting when another refill holds the
 * lock (it looks again before it ends). A failure to pool one bottle stops this refill (the
 * next one tries again) and is reported through `progress`.
 */
export async function refillPool(
  op: OperatorContext,
  agent: string,
  progress: Progress,
): Promise<void> {
  for (let round = 0; round < 5; round++) {
    if (!takeRefillLock(op.host, agent, processAlive)) return;
    try {
      for (;;) {
        const target = readTarget(op.host, agent);
        await sweep(op, agent, target ?? { size: 0 }, progress);
        if (target === undefined || listEntries(op.host, agent, "ready.json").length >= target.size)
          break;
        await poolWithRetries(op, target, progress);
      }
    } finally {
      releaseRefillLock(op.host, agent);
    }
    // A take during the last look found the lock held and left the refill to us: look again.
    const target = readTarget(op.host, agent);
    if (target === undefined || listEntries(op.host, agent, "ready.json").length >= target.size)
      return;
  }
}

/** Waits for the agent's refill lock (a running refill finishes the bottle it is pooling). */
async function lockForDrain(op: OperatorContext, agent: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (!takeRefillLock(op.host, agent, processAlive)) {
    if (Date.now() > deadline)
      throw new BottleError("launch_failed", `A refill of ${agent}'s pool does not finish.`, {
        hint: `See ${path.join("pool", "refill.log")} in the state home; run the command again.`,
      });
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `bottle pool AGENT --size N`: records the target and fills the pool now (N > 0), or drains it
 * (N = 0): every pooled bottle of the agent is removed, engine objects and state.
 */
export async function setPoolSize(
  op: OperatorContext,
  agent: string,
  size: number,
  manifestOption: string | undefined,
  progress: Progress,
): Promise<void> {
  const current = readTarget(op.host, agent);
  const manifest =
    manifestOption === undefined && current !== undefined && size === 0
      ? current.manifest
      : findManifest(op.host, manifestOption);
  if (size > 0) await planNow(op, agent, manifest); // an unknown agent or bad manifest fails here
  writeTarget(op.host, { agent, size, manifest });
  if (size > 0) {
    await refillPool(op, agent, progress);
    return;
  }
  await lockForDrain(op, agent);
  try {
    await sweep(op, agent, { size: 0 }, progress);
  } finally {
    releaseRefillLock(op.host, agent);
  }
}

/** `bottle stop` of a pooled bottle: it is removed whole (it holds nothing to keep). */
export async function stopPooled(
  op: OperatorContext,
  agent: string,
  identity: string,
): Promise<boolean> {
  const entry = listEntries(op.host, agent, "ready.json").find((e) => e.identity === identity);
  if (entry !== undefined && !claim(op.host, entry)) return false; // taken meanwhile
  if (entry !== undefined) endClaim(op.host, entry, "discard");
  await removePooled(op, agent, identity, "stopped", () => undefined);
  return true;
}
