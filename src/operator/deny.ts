/**
 * Denying an agent's request (CLI `bottle deny`, the dashboard): writes `<id>.decision.json` with
 * the reason, which the agent's wait_for_decision returns, and appends to `audit/decisions.jsonl`.
 * Nothing in the bottle changes. A denial is of the request as it is now (any revision): refusing
 * something wider than was shown grants nothing. No terminal I/O.
 */
import { commandLines } from "../core/command-lines.js";
import { BottleError } from "../core/errors.js";
import type { HostEnv } from "../core/host/paths.js";
import { deny } from "../core/requests/grant.js";
import type { Decision } from "../core/requests/request.js";
import { REASON_MAX_CHARS } from "../core/requests/request.js";
import { requestsDir, writeDecision } from "../core/requests/request-store.js";
import { appendDecisionLog, decisionLogEntry } from "../core/state/decision-log.js";
import { bottleRef } from "./bottle-ref.js";
import { findRequest } from "./requests.js";

export interface DenyOptions {
  /** Passed back to the agent (at most REASON_MAX_CHARS characters). */
  reason?: string;
  /** Who denies (`cli:<user>`, `dashboard:<user>`). */
  by: string;
}

export interface DenyResult {
  identity: string;
  decision: Decision;
}

/**
 * Denies `reference` (`r-1a2b3c` or `<identity>/r-1a2b3c`). Throws `request_unknown`, `usage` (a
 * reason too long), or `request_decided` when it already has a decision in force (an approved
 * request's rule is taken back with `bottle policy remove <identity> --request <id>`).
 */
export function denyRequest(
  host: HostEnv,
  reference: string,
  options: DenyOptions,
  now = new Date(),
): DenyResult {
  if (options.reason !== undefined && options.reason.length > REASON_MAX_CHARS) {
    throw new BottleError("usage", `The reason is longer than ${REASON_MAX_CHARS} characters.`);
  }
  const view = findRequest(host, reference, now);
  if (view.status === "approved" || view.status === "denied") {
    throw new BottleError(
      "request_decided",
      `Request ${view.request.id} of ${view.identity} is already ${view.status}.`,
      {
        hint:
          view.status === "approved"
            ? `Take its rule back: ${commandLines.policyRemoveRequest(view.identity, view.request.id)}`
            : "Nothing to do.",
      },
    );
  }
  const ref = bottleRef(host, view.identity);
  const decision = deny(view.request, options.reason, options.by, now);
  writeDecision(requestsDir(ref.paths.dir), decision);
  appendDecisionLog(ref.paths, decisionLogEntry(ref.identity, view.request, decision, [], "none"));
  return { identity: ref.identity, decision };
}
