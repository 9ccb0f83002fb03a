/**
 * `state/<identity>/audit/decisions.jsonl`: one line per operator decision on a request (approved
 * or denied), appended by the host (CLI or dashboard) after the decision took effect. It holds what
 * was asked, what was granted, the risk flags shown, who decided and when; never a secret (requests
 * hold host names, methods, paths and the agent's reason, nothing else).
 */
import fs from "node:fs";
import path from "node:path";
import type { PlanEgressRule } from "../plan/bottle-plan.js";
import type { BottleRequest, Decision } from "../requests/request.js";
import type { RiskFlag } from "../requests/risk-flags.js";
import type { BottlePaths } from "./bottle-state.js";

export const DECISIONS_LOG = "decisions.jsonl";

export interface DecisionLogEntry {
  time: string;
  identity: string;
  request_id: string;
  kind: BottleRequest["spec"]["kind"];
  /** What the agent asked for, at the revision decided on. */
  asked: BottleRequest["spec"];
  reason: string;
  revision: number;
  status: Decision["status"];
  scope: Decision["scope"];
  granted: Decision["granted"];
  expires_at: string | null;
  note: string | null;
  /** The risk flags the operator was shown (codes). */
  flags: string[];
  by: string;
  /** The egress rule put in force (with its provenance), or null. */
  rule: PlanEgressRule | null;
  /** Whether the decision took effect in a running sidecar at once, or from the next resume. */
  effect: "live" | "on-resume" | "none";
}

export function decisionLogFile(paths: BottlePaths): string {
  return path.join(paths.auditDir, DECISIONS_LOG);
}

export function decisionLogEntry(
  identity: string,
  request: BottleRequest,
  decision: Decision,
  flags: readonly RiskFlag[],
  effect: DecisionLogEntry["effect"],
  rule: PlanEgressRule | null = null,
): DecisionLogEntry {
  return {
    time: decision.decided_at,
    identity,
    request_id: request.id,
    kind: request.spec.kind,
    asked: request.spec,
    reason: request.reason,
    revision: decision.revision,
    status: decision.status,
    scope: decision.scope,
    granted: decision.granted,
    expires_at: decision.expires_at,
    note: decision.note,
    flags: flags.map((f) => f.code),
    by: decision.by,
    rule,
    effect,
  };
}

/** Appends one entry (one write of one line, so concurrent writers never interleave a line). */
export function appendDecisionLog(paths: BottlePaths, entry: DecisionLogEntry): void {
  fs.mkdirSync(paths.auditDir, { recursive: true, mode: 0o700 });
  fs.appendFileSync(decisionLogFile(paths), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}
