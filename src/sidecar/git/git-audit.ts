/**
 * The git gate's audit log (`audit/git.jsonl`): one entry per fetch and per push. Refs, ids,
 * verdicts and reasons only; never a key, a token or file content (a finding names a kind and a
 * path).
 */

export interface GitAuditRef {
  ref: string;
  old: string;
  new: string;
  /** Why this ref was refused, when the rest of the push was not. */
  error?: string;
}

export interface GitAuditEntry {
  /** ISO 8601 time the request arrived. */
  time: string;
  /** `fetch`: the mirror brought up to date for the agent (refs: what changed upstream). */
  op: "fetch" | "push";
  repo: string;
  /** `error`: the upstream could not be reached, or the pack could not be read. */
  verdict: "allow" | "deny" | "error";
  reason: string;
  refs: GitAuditRef[];
  /** Pack bytes the agent sent. */
  bytes?: number;
  /** A content finding (`kind@where`). */
  finding?: string;
  duration_ms: number;
}
