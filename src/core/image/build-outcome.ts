/**
 * What the agent is told about an approved image change once its build ran: a failed build turns
 * the approval into a denial whose note carries the build's last lines (wait_for_decision returns
 * `denied` with "build failed: ..."); a restart on the new image is said in the approval's note.
 * Written by the host only (the decision file's one writer).
 */
import { REASON_MAX_CHARS } from "../requests/request.js";
import type { Decision } from "../requests/request.js";
import { readRequest, requestsDir, writeDecision } from "../requests/request-store.js";

/** The note of a failed build: "build failed: " and as many of the last lines as fit. */
export function buildFailedNote(tail: readonly string[]): string {
  const prefix = "build failed: ";
  const kept: string[] = [];
  for (const line of [...tail].reverse()) {
    const next = [line, ...kept].join("\n");
    if (prefix.length + next.length > REASON_MAX_CHARS) break;
    kept.unshift(line);
  }
  if (kept.length === 0) {
    const last = tail.at(-1) ?? "";
    return `${prefix}${last.slice(-(REASON_MAX_CHARS - prefix.length))}`;
  }
  return `${prefix}${kept.join("\n")}`;
}

export const RESTARTED_NOTE =
  "approved: the bottle was restarted on the new image (same identity, workspace and conversation); what the change installs is there now";
export const STORED_NOTE =
  "approved: the change is stored; the bottle runs on the new image from its next restart or resume";

/** Denies the given requests because their image did not build (bottle kept on its last image). */
export function denyFailedBuild(
  stateDir: string,
  requestIds: readonly string[],
  tail: readonly string[],
  now = new Date(),
): void {
  const dir = requestsDir(stateDir);
  for (const id of requestIds) {
    let stored;
    try {
      stored = readRequest(dir, id);
    } catch {
      continue;
    }
    if (stored === undefined) continue;
    const decision: Decision = {
      request_id: id,
      revision: stored.request.revision,
      status: "denied",
      scope: null,
      expires_at: null,
      granted: null,
      note: buildFailedNote(tail),
      decided_at: now.toISOString(),
      by: stored.decision?.by ?? "bot-bottle",
    };
    writeDecision(dir, decision);
  }
}

/** Rewrites an approval's note (kept otherwise as it was). */
export function noteApproval(stateDir: string, requestId: string, note: string): void {
  const dir = requestsDir(stateDir);
  const stored = readRequest(dir, requestId);
  if (stored?.decision?.status !== "approved") return;
  writeDecision(dir, { ...stored.decision, note });
}
