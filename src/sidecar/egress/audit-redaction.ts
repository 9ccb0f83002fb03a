/**
 * Keeps secrets out of the egress audit log. Every field an entry takes from the request (host,
 * path, the reason, which quotes them, findings' `where`, errors) is run through the content
 * checks before it is written; a field they flag is replaced whole (the checks give no span),
 * and a reason or error quoting a flagged field is replaced by one that says so. A denial is
 * still logged with its rule, so the operator sees what was refused.
 */
import type { AuditEntry } from "./egress-audit-entry.js";
import type { ContentInspector } from "../shared/content-inspector.js";

export const REDACTED = "[redacted: carries what looks like a secret]";

function flagged(inspector: ContentInspector, text: string): boolean {
  if (text === "") return false;
  return inspector.inspectRequest({ method: "GET", host: "", path: text, headers: {} }).length > 0;
}

function hostFlagged(inspector: ContentInspector, host: string): boolean {
  return host !== "" && (inspector.inspectHost(host).length > 0 || flagged(inspector, host));
}

/** The entry as it may be written: request-derived fields redacted where the checks find data. */
export function redactAuditEntry(entry: AuditEntry, inspector: ContentInspector): AuditEntry {
  const host = hostFlagged(inspector, entry.host);
  const path = entry.path !== null && flagged(inspector, entry.path);
  const quoted = host || path;
  const out: AuditEntry = { ...entry };
  if (host) out.host = REDACTED;
  if (path) out.path = REDACTED;
  if (quoted || flagged(inspector, entry.reason))
    out.reason = `${entry.rule ?? "deny"}: ${REDACTED} (the reason quoted the request)`;
  if (entry.error !== undefined && (quoted || flagged(inspector, entry.error)))
    out.error = REDACTED;
  if (entry.finding !== undefined) {
    out.finding = entry.finding
      .split(",")
      .map((one) => {
        const at = one.indexOf("@");
        const where = at === -1 ? "" : one.slice(at + 1);
        return flagged(inspector, where) ? `${one.slice(0, at)}@[redacted]` : one;
      })
      .join(",");
  }
  return out;
}
