/**
 * The bottles of this state home, as `bottle list` and the dashboard show them: what the engine
 * and each sidecar say (status, health), plus what is waiting for the operator.
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
  /** An approved image change that the next resume builds. */
  rebuild_pending: boolean;
}

/** What the requests folder of one bottle says (no engine call). */
export function waitingFor(
  host: HostEnv,
  identity: string,
  now = new Date(),
): { pending_requests: number; rebuild_pending: boolean } {
  const paths = bottlePaths(host, identity);
  const started = Date.parse(readMetadata(paths)?.started_at ?? "") || 0;
  let pending = 0;
  let rebuild = false;
  for (const { request, decision } of listRequests(requestsDir(paths.dir))) {
    const status = requestStatus(request, decision, now);
    if (status === "pending") pending++;
    else if (
      status === "approved" &&
      request.spec.kind === "image" &&
      decision !== undefined &&
      Date.parse(decision.decided_at) >= started
    )
      rebuild = true;
  }
  return { pending_requests: pending, rebuild_pending: rebuild };
}

export async function listBottles(op: OperatorContext): Promise<BottleOverview[]> {
  const summaries = await (await op.backend()).list();
  const now = new Date();
  return summaries.map((summary) => ({
    ...summary,
    provider: readMetadata(bottlePaths(op.host, summary.identity))?.provider ?? "?",
    ...waitingFor(op.host, summary.identity, now),
  }));
}
