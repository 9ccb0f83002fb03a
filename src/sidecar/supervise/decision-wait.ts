/**
 * `wait_for_decision`: what the agent is told about a request, and the bounded wait for it. The
 * wait polls the decision file (written by the host only) and returns when the request is decided
 * or the timeout passes; a timeout answers "pending": never a denial, never consent.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StoredRequest } from "../../core/requests/request-store.js";
import { requestStatus } from "../../core/requests/request-merge.js";
import type { DecisionScope, RequestSpec, RequestStatus } from "../../core/requests/request.js";

/** The longest wait: below Claude Code's and Codex's MCP tool timeouts (about 60 s). */
export const MAX_WAIT_S = 50;
export const DEFAULT_WAIT_S = 30;
/** How often the decision file is read while waiting. */
export const POLL_MS = 200;

export interface DecisionOutcome {
  request_id: string;
  status: RequestStatus;
  scope: DecisionScope | null;
  /** For a time-limited approval: when it ends. */
  expires_at: string | null;
  /** What was granted (the operator may have narrowed the ask); null unless approved. */
  granted: RequestSpec | null;
  /** The operator's note or deny reason, or what to do while pending. */
  note: string | null;
}

const STILL_PENDING =
  "The operator has not decided yet. Call wait_for_decision again to keep waiting, or carry on with other work.";

/** PURE: the outcome of a stored request at `now`. */
export function outcomeOf(stored: StoredRequest, now: Date): DecisionOutcome {
  const { request, decision } = stored;
  const status = requestStatus(request, decision, now);
  if (status === "pending" || decision === undefined) {
    return {
      request_id: request.id,
      status: "pending",
      scope: null,
      expires_at: null,
      granted: null,
      note: STILL_PENDING,
    };
  }
  return {
    request_id: request.id,
    status,
    scope: decision.scope,
    expires_at: decision.expires_at,
    granted: status === "approved" ? decision.granted : null,
    note: decision.note,
  };
}

/** PURE: the wait in milliseconds for a requested `timeout_s` (clamped to 0..MAX_WAIT_S). */
export function waitMs(timeoutS: number | undefined): number {
  const seconds = timeoutS ?? DEFAULT_WAIT_S;
  if (!Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(seconds, MAX_WAIT_S) * 1000;
}

/**
 * Reads the request until it is no longer pending or `ms` have passed (or `signal` aborts: the
 * client went away); returns its last outcome. `read` returns undefined for an unknown request
 * (the caller checked it exists first; one that vanishes meanwhile is reported pending).
 */
export async function waitForOutcome(
  read: () => StoredRequest | undefined,
  ms: number,
  signal: AbortSignal | undefined,
  clock: () => Date = () => new Date(),
): Promise<DecisionOutcome | undefined> {
  const end = clock().getTime() + ms;
  for (;;) {
    const stored = read();
    if (stored === undefined) return undefined;
    const outcome = outcomeOf(stored, clock());
    const left = end - clock().getTime();
    if (outcome.status !== "pending" || left <= 0 || signal?.aborted === true) return outcome;
    try {
      await sleep(Math.min(POLL_MS, left), undefined, signal === undefined ? {} : { signal });
    } catch {
      return outcome;
    }
  }
}
