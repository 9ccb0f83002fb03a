/**
 * How requests, approvals and decisions read on the terminal: one line per request in lists and
 * in `--watch`, and the full preview an approval asks y/N on. Pure: strings from data.
 */
import { commandLines } from "../../core/command-lines.js";
import type { RequestSpec } from "../../core/requests/request.js";
import type { ApprovalPreview, ApprovalResult } from "../../operator/approve.js";
import type { ImageChangePreview } from "../../operator/image-change.js";
import type { RequestView } from "../../operator/requests.js";

/** `HH:MM:SS` of an ISO time. */
function clock(iso: string): string {
  return iso.slice(11, 19);
}

function shortTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

/** What a request asks for, in a few words. */
export function specSummary(spec: RequestSpec): string {
  switch (spec.kind) {
    case "egress": {
      const e = spec.egress;
      return [
        `egress ${e.host}${e.ports === null ? "" : `:${e.ports.join(",")}`}`,
        e.methods === null ? "" : e.methods.join(","),
        e.paths === null ? "" : e.paths.join(","),
      ]
        .filter((x) => x !== "")
        .join(" ");
    }
    case "push-branch":
      return `push to ${spec.push_branch.pattern}${spec.push_branch.entry === null ? "" : ` (${spec.push_branch.entry})`}`;
    case "image": {
      const lines = spec.image.dockerfile.trimEnd().split("\n");
      const first = (lines.find((l) => /^\s*[A-Za-z]/.test(l)) ?? "").trim();
      const cut = first.length > 50 ? `${first.slice(0, 49)}…` : first;
      return `image change: ${cut}${lines.length > 1 ? ` (+${lines.length - 1} lines)` : ""}`;
    }
  }
}

function quoted(reason: string, max = 60): string {
  const flat = reason.replace(/\s+/g, " ").trim();
  return flat.length > max ? `"${flat.slice(0, max - 1)}…"` : `"${flat}"`;
}

/** The table of `bottle requests`. */
export function renderRequestTable(views: readonly RequestView[]): string {
  const rows = [
    ["ID", "BOTTLE", "STATUS", "ASKS FOR", "HITS", "LAST", "REASON (the agent's words)"],
  ];
  for (const v of views) {
    rows.push([
      v.request.id,
      `${v.identity}${v.bottle_status === "running" ? "" : ` (${v.bottle_status})`}`,
      v.status,
      specSummary(v.request.spec),
      String(v.request.hits),
      clock(v.request.last_seen),
      quoted(v.request.reason),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One line of `bottle requests --watch`, starting with a terminal bell. */
export function renderWatchLine(kind: "new" | "changed", v: RequestView): string {
  return `\u0007${clock(v.request.last_seen)} ${kind === "new" ? "new" : "widened"} ${v.request.id} ${v.identity}: ${specSummary(v.request.spec)} ${quoted(v.request.reason)}  → ${commandLines.approve(v.request.id)}`;
}

function scopeLine(preview: ApprovalPreview): string {
  const d = preview.decision;
  switch (d.scope) {
    case "once":
      return "once: the next matching request or tunnel only, then the rule is gone";
    case "for":
      return `until ${shortTime(d.expires_at ?? "")} (the sidecar drops it then)`;
    case "bottle":
    case null:
      return "for the bottle: kept across stop and resume, until you remove it";
  }
}

function grantLines(preview: ApprovalPreview): string[] {
  const rule = preview.rule;
  if (rule !== null) {
    return [
      `  host      ${rule.host}`,
      `  ports     ${rule.ports.join(", ")}`,
      `  methods   ${rule.methods === null ? "any" : rule.methods.join(", ")}`,
      `  paths     ${rule.paths === null ? "any" : rule.paths.map((p) => `${p}…`).join(", ")}`,
      `  tls       intercepted (methods and paths checked inside)`,
      ...(rule.internal ? ["  internal  the name may resolve to an internal address"] : []),
      `  scope     ${scopeLine(preview)}`,
      ...preview.lifts.map((p) => `  lifts     the deny rule ${p}`),
      ...preview.still_denied_by.map(
        (p) =>
          `  ! still denied by ${p}: no effect while that deny rule stands; remove it first if you mean it`,
      ),
    ];
  }
  if (preview.branches.length > 0) {
    return preview.branches.map(
      (b) => `  git ${b.entry}: push to ${b.after.join(", ")} (was ${b.before.join(", ")})`,
    );
  }
  if (preview.image !== null) return imageLines(preview.image);
  const granted = preview.decision.granted;
  return [`  ${granted === null ? "nothing" : specSummary(granted)}`];
}

/** An image change as the operator reads it: the diff of the bottle's recipe, indented. */
export function imageLines(image: ImageChangePreview): string[] {
  if (image.alreadyThere)
    return ["  nothing new: the recipe already holds this change (no rebuild)"];
  return [
    ...(image.recipeMovedOn
      ? ["  (the recipe changed since the agent asked: the diff is against the current one)"]
      : []),
    ...image.diff
      .trimEnd()
      .split("\n")
      .map((line) => `  ${line}`),
  ];
}

/** `bottle requests REQ`: one request whole, an image change as a diff with its risk flags. */
export function renderRequestDetail(
  view: RequestView,
  image: ImageChangePreview | null,
  flags: readonly { code: string; text: string }[],
): string {
  const r = view.request;
  const d = view.decision;
  return [
    `Request ${r.id} from ${view.identity} (${view.bottle_status}): ${view.status}`,
    `  asked ${r.hits} time${r.hits === 1 ? "" : "s"}, first ${shortTime(r.first_seen)}, last ${shortTime(r.last_seen)}, revision ${r.revision}`,
    `  the agent's reason (its words, not checked): ${quoted(r.reason, 400)}`,
    `  asks for: ${specSummary(r.spec)}`,
    ...(image === null ? [] : ["The change to the bottle's image recipe:", ...imageLines(image)]),
    ...(image === null && flags.length === 0
      ? []
      : [
          "Risk flags:",
          ...(flags.length === 0
            ? ["  (none found)"]
            : flags.map((f) => `  ! ${f.code}: ${f.text}`)),
        ]),
    ...(d === undefined
      ? [
          `Decide: ${commandLines.approve(`${view.identity}/${r.id}`)} | ${commandLines.deny(`${view.identity}/${r.id}`)}`,
        ]
      : [
          `Decision: ${d.status} by ${d.by} at ${shortTime(d.decided_at)}${d.note === null ? "" : `: ${d.note}`}`,
        ]),
  ].join("\n");
}

/** The whole preview an approval is decided on. */
export function renderApprovalPreview(preview: ApprovalPreview): string {
  const r = preview.request;
  const where =
    preview.image !== null
      ? preview.bottle_status === "running"
        ? "stored in the bottle's recipe; the bottle runs on the new image once restarted (asked next, or --restart), else from its next resume"
        : `stored in the bottle's recipe; built at its next resume (it is ${preview.bottle_status})`
      : preview.bottle_status === "running"
        ? "in force at once in the running bottle"
        : `in force from the bottle's next resume (it is ${preview.bottle_status})`;
  return [
    `Request ${r.id} from ${preview.identity}, revision ${r.revision}, asked ${r.hits} time${r.hits === 1 ? "" : "s"} since ${clock(r.first_seen)}`,
    `  the agent's reason (its words, not checked): ${quoted(r.reason, 400)}`,
    `  asks for: ${specSummary(r.spec)}`,
    "Approving allows exactly:",
    ...grantLines(preview),
    "Risk flags:",
    ...(preview.flags.length === 0
      ? ["  (none found)"]
      : preview.flags.map((f) => `  ! ${f.code}: ${f.text}`)),
    `Effect: ${where}.`,
  ].join("\n");
}

/** What `bottle approve` reports once applied. */
export function renderApproved(result: ApprovalResult): string {
  const d = result.decision;
  if (result.image !== null) {
    return `approved ${d.request_id}: the change is stored in the bottle's image recipe${result.image.rebuildPending ? "; the bottle waits for a rebuild" : " (already built)"}.`;
  }
  const effect =
    result.effect === "live"
      ? "in force in the running bottle now"
      : result.effect === "on-resume"
        ? "saved; in force from the bottle's next resume"
        : "recorded";
  const back =
    result.rule === null
      ? ""
      : `\nTake it back: ${commandLines.policyRemoveRequest(result.identity, d.request_id)}`;
  return `approved ${d.request_id} (${d.scope ?? "bottle"}): ${effect}; the agent's wait_for_decision returns it.${back}`;
}
