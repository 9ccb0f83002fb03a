/**
 * `bottle list` on the Docker engine: every bottle of the state home or of the engine, with its
 * status (from its state) and its health (from its containers and its sidecar's health report).
 */
import type { BackendContext } from "./backend-context.js";
import { findBottleObjects } from "./engine-objects.js";
import { isOwn } from "./leftovers.js";
import { sidecarState } from "./secret-keeper.js";
import { rebuildPending } from "../../core/image/bottle-recipe.js";
import { readRecipe } from "../../core/image/recipe-store.js";
import type { HostEnv } from "../../core/host/paths.js";
import { bottlePaths, listStateIdentities, readMetadata } from "../../core/state/bottle-state.js";

/** `idle`: a warm pool's bottle, up and waiting without its secrets, as it should. */
export type Health = "healthy" | "unhealthy" | "degraded: waiting for secrets" | "idle" | "-";

export interface BottleSummary {
  identity: string;
  agent: string;
  status: string;
  health: Health;
  started_at: string | null;
  runtime: string;
  /** Approved image changes wait for a rebuild (at restart or the next resume). */
  rebuild_pending: boolean;
}

/** The bottles of this home: its state folders and its objects (never another home's). */
export async function listBottles(ctx: BackendContext): Promise<BottleSummary[]> {
  const all = await findBottleObjects(ctx.docker);
  const groups = new Map([...all].filter(([, group]) => isOwn(ctx, group)));
  const identities = new Set([...listStateIdentities(ctx.host), ...groups.keys()]);
  const summaries: BottleSummary[] = [];
  for (const identity of [...identities].sort()) {
    const paths = bottlePaths(ctx.host, identity);
    const metadata = readMetadata(paths);
    const containers = groups.get(identity)?.containers ?? [];
    const running = (role: string): boolean =>
      containers.some((c) => c.role === role && c.state === "running");
    let health: Health = "-";
    if (metadata?.status === "pooled") {
      const state =
        running("agent") && running("sidecar")
          ? await sidecarState(paths.controlSocket)
          : undefined;
      health = state === "degraded: waiting for secrets" ? "idle" : "unhealthy";
    } else if (metadata?.status === "running") {
      const state =
        running("agent") && running("sidecar")
          ? await sidecarState(paths.controlSocket)
          : undefined;
      health =
        state === "ready"
          ? "healthy"
          : state === "degraded: waiting for secrets"
            ? state
            : "unhealthy";
    }
    summaries.push({
      identity,
      agent: metadata?.agent ?? "?",
      status: metadata?.status ?? "orphaned",
      rebuild_pending: isRebuildPending(ctx.host, identity),
      health,
      started_at: metadata?.started_at ?? null,
      runtime: metadata?.runtime ?? "?",
    });
  }
  return summaries;
}

/** Whether approved image changes wait for a rebuild (restart or resume). */
export function isRebuildPending(host: HostEnv, identity: string): boolean {
  try {
    const recipe = readRecipe(bottlePaths(host, identity).dir);
    return recipe !== undefined && rebuildPending(recipe);
  } catch {
    return false;
  }
}
