/**
 * The bottles of this state home, as `bottle list` and the dashboard show them: what the engine
 * and each sidecar say (status, health, a rebuild pending from the bottle's image recipe), plus
 * the requests waiting for the operator.
 */
import type { BottleSummary } from "../backend/docker/docker-backend.js";
import { requestsDir, listRequests } from "../core/requests/request-store.js";
import { requestStatus } from "../core/requests/request-merge.js";
import { bottlePaths, readMetadata } from "../core/state/bottle-state.js";
import type { HostEnv } from "../core/host/paths.js";
import type { OperatorContext } from "./operator-context.js";

export interface BottleOverview extends BottleSummary {
  provider: string;
  /** Requests of the agent that no decision answers yet. */
  pending_requests: number;
}

/** Requests of one bottle that no decision answers yet (no engine call). */
export function pendingRequests(host: HostEnv, identity: string, now = new Date()): number {
  const paths = bottlePaths(host, identity);
  return listRequests(requestsDir(paths.dir)).filter(
    ({ request, decision }) => requestStatus(request, decision, now) === "pending",
  ).length;
}

export async function listBottles(op: OperatorContext): Promise<BottleOverview[]> {
  const summaries = await (await op.backend()).list();
  const now = new Date();
  return summaries.map((summary) => ({
    ...summary,
    provider: readMetadata(bottlePaths(op.host, summary.identity))?.provider ?? "?",
    pending_requests: pendingRequests(op.host, summary.identity, now),
  }));
}
