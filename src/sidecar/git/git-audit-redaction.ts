/**
 * Keeps secrets out of the git gate's audit log (`audit/git.jsonl`). The agent chooses ref names
 * and file paths, and the reasons and per-ref errors quote them: every such field is run through
 * the content checks before it is written, and a field they flag is replaced whole (the checks
 * give no span). Object ids, verdicts, sizes and times are the gate's own and pass as they are.
 */
import type { ContentInspector } from "../shared/content-inspector.js";
import type { GitAuditEntry } from "./git-audit.js";

export const GIT_REDACTED = "[redacted: carries what looks like a secret]";

type Inspector = Pick<ContentInspector, "inspectRequest">;

function flagged(inspector: Inspector, text: string | undefined): boolean {
  if (text === undefined || text === "") return false;
  return inspector.inspectRequest({ method: "GET", host: "", path: text, headers: {} }).length > 0;
}

/** The entry as it may be written: agent-chosen fields redacted where the checks find data. */
export function redactGitAuditEntry(entry: GitAuditEntry, inspector: Inspector): GitAuditEntry {
  let quoted = false;
  const refs = entry.refs.map((ref) => {
    const name = flagged(inspector, ref.ref);
    const error = flagged(inspector, ref.error);
    quoted ||= name || error;
    return {
      ...ref,
      ref: name ? GIT_REDACTED : ref.ref,
      ...(ref.error === undefined ? {} : { error: name || error ? GIT_REDACTED : ref.error }),
    };
  });
  const out: GitAuditEntry = { ...entry, refs };
  if (entry.finding !== undefined) {
    out.finding = entry.finding
      .split(",")
      .map((one) => {
        const at = one.indexOf("@");
        if (at === -1) return flagged(inspector, one) ? GIT_REDACTED : one;
        return flagged(inspector, one.slice(at + 1)) ? `${one.slice(0, at)}@[redacted]` : one;
      })
      .join(",");
    quoted ||= out.finding !== entry.finding;
  }
  if (quoted || flagged(inspector, entry.reason)) {
    out.reason = `${entry.verdict}: ${GIT_REDACTED} (the reason quoted a ref or a path)`;
  }
  return out;
}
