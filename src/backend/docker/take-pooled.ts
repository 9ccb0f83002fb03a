/**
 * Takes a bottle from an agent's warm pool for `bottle start` (see core/pool/): claims the oldest
 * ready one (an atomic rename), checks that it may be handed out, hands its sidecar the secrets,
 * and records it as a normal running bottle. Loads no schema library and no engine client: the
 * claim is file operations, the checks are the sidecar's control socket and one Engine API call,
 * the hand-over is the control socket again.
 *
 * A bottle is handed out only when all of these hold, else it is set aside for the refill to
 * remove and the next one is tried: its pool key equals the key of what the host says now (same
 * manifest bytes and path, files, forwarded values, recipe, build), its state says `pooled`, its
 * sidecar answers health with its own identity and still waits for its secrets (it never held
 * any), and both its containers run.
 */
import fs from "node:fs";
import { readBottleSecrets } from "../../core/host/read-secrets.js";
import type { HostEnv } from "../../core/host/paths.js";
import { botBottleHome } from "../../core/host/paths.js";
import type { Provider } from "../../core/manifest/schema.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { objectName } from "../../core/plan/layout.js";
import { providerSpec } from "../../core/plan/provider-spec.js";
import { poolKey } from "../../core/pool/pool-key.js";
import { readPoolReadings } from "../../core/pool/pool-readings.js";
import type { PoolEntry } from "../../core/pool/pool-store.js";
import { claim, endClaim, listEntries } from "../../core/pool/pool-store.js";
import {
  bottlePaths,
  readMetadata,
  readPlan,
  writeMetadata,
} from "../../core/state/bottle-state.js";
import { containerRunning } from "./container-running.js";
import { controlRequest } from "./control-request.js";
import { keeperFilesOf } from "./keeper-protocol.js";
import { keepBottle } from "./keeper-spawn.js";
import type { StartTimings } from "./start-timings.js";

export interface TakeOutcome {
  /** The bottle handed out, now running with its secrets; undefined when none could be. */
  taken: BottlePlan | undefined;
  /** Identities set aside (stale, dead, not matching): the refill removes them. */
  discarded: string[];
}

/** Whether the sidecar says it is this bottle's and still waits for its secrets. */
async function sidecarWaiting(controlSocket: string, identity: string): Promise<boolean> {
  try {
    const health = (await controlRequest(controlSocket, "GET", "/health", undefined, 2000)) as {
      state?: unknown;
      identity?: unknown;
    } | null;
    return health?.identity === identity && health.state === "degraded: waiting for secrets";
  } catch {
    return false;
  }
}

/** Why a pooled bottle may not be handed out, or undefined when it may (read-only). */
export async function pooledRefusal(
  host: HostEnv,
  entry: PoolEntry,
  packageRoot: string,
): Promise<string | undefined> {
  const paths = bottlePaths(host, entry.identity);
  // The sidecar and the engine are asked first; the key is computed while they answer. The
  // sidecar's answer on its control socket also says its container runs.
  const live = Promise.all([
    sidecarWaiting(paths.controlSocket, entry.identity),
    containerRunning(host.env, objectName(entry.identity, "agent")),
  ]);
  const why = (() => {
    if (poolKey(readPoolReadings(host, entry.agent, entry.sources, packageRoot)) !== entry.key)
      return "no longer matches the manifest and host";
    if (readMetadata(paths)?.status !== "pooled") return "its state is not pooled";
    return readPlan(paths)?.identity !== entry.identity ? "its plan is missing" : undefined;
  })();
  const [waiting, agent] = await live;
  if (why !== undefined) return why;
  if (!waiting) return "its sidecar does not answer as a pooled one";
  return agent ? undefined : "a container of it is not running";
}

/** Whether the plan's model credential has its token here (else the normal start explains). */
function modelTokenSet(plan: BottlePlan, missing: readonly string[]): boolean {
  const role = providerSpec(plan.provider as Provider).modelRole;
  if (role === undefined) return true;
  const route = plan.credentials.find((c) => c.role === role);
  return route !== undefined && !missing.includes(route.name);
}

export async function takePooled(
  host: HostEnv,
  agent: string,
  manifestPath: string,
  options: { detached: boolean; packageRoot: string; timings?: StartTimings },
): Promise<TakeOutcome> {
  const discarded: string[] = [];
  for (const entry of listEntries(host, agent, "ready.json")) {
    // Another manifest's agent of the same name: not this start's, and not stale either.
    if (entry.sources.manifest !== manifestPath) continue;
    if (!claim(host, entry)) continue; // another start took it first
    const why = await pooledRefusal(host, entry, options.packageRoot);
    if (why !== undefined) {
      endClaim(host, entry, "discard");
      discarded.push(`${entry.identity}: ${why}`);
      continue;
    }
    options.timings?.mark("pooled bottle claimed");
    const paths = bottlePaths(host, entry.identity);
    const plan = readPlan(paths);
    const metadata = readMetadata(paths);
    if (plan === undefined || metadata === undefined) {
      endClaim(host, entry, "discard");
      continue;
    }
    let read: ReturnType<typeof readBottleSecrets>;
    try {
      read = readBottleSecrets(plan, host.env);
    } catch (error) {
      endClaim(host, entry, "release"); // a token file that cannot be read: the start fails
      throw error;
    }
    const { secrets, missing } = read;
    if (!modelTokenSet(plan, missing)) {
      endClaim(host, entry, "release");
      return { taken: undefined, discarded };
    }
    try {
      await controlRequest(paths.controlSocket, "PUT", "/secrets", secrets);
    } catch {
      endClaim(host, entry, "discard");
      discarded.push(`${entry.identity}: its sidecar refused the secrets`);
      continue;
    }
    options.timings?.mark("sidecar holds secrets");
    writeMetadata(paths, {
      ...metadata,
      status: "running",
      started_at: new Date().toISOString(),
      detached: options.detached,
      starter_pid: process.pid,
    });
    endClaim(host, entry, "done");
    // The home's keeper hands the secrets over again if the sidecar restarts; a keeper that has
    // to be started is not waited for.
    try {
      await keepBottle(botBottleHome(host), keeperFilesOf(paths, entry.identity), secrets, false);
    } catch (error) {
      fs.appendFileSync(
        keeperFilesOf(paths, entry.identity).logFile,
        `the keeper did not start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
    options.timings?.mark("keeper");
    return { taken: plan, discarded };
  }
  return { taken: undefined, discarded };
}
