/**
 * Approving an agent's request (CLI `bottle approve`, the dashboard), in two steps so that what is
 * granted is what the operator saw:
 *
 *   previewApproval(host, "r-1a2b3c", options, by)  -> ApprovalPreview: the exact grant (the rule
 *                                                       with its scope, or the branch patterns),
 *                                                       the deny patterns it lifts, the risk flags
 *   applyApproval(host, preview)                     -> ApprovalResult, or BottleError
 *                                                       `request_changed` when the request was
 *                                                       widened since the preview (nothing done)
 *
 * Apply puts the grant in force (egress rules: in the running sidecar at once, else from the next
 * resume; push branches likewise), then writes `<id>.decision.json` (which the agent's
 * wait_for_decision reads) and appends to `audit/decisions.jsonl`. No terminal I/O.
 */
import type { HostEnv } from "../core/host/paths.js";
import { commandLines } from "../core/command-lines.js";
import { BottleError } from "../core/errors.js";
import type { PlanEgressRule } from "../core/plan/bottle-plan.js";
import type { GrantOptions } from "../core/requests/grant.js";
import { approve, checkShownRevision } from "../core/requests/grant.js";
import type { BottleRequest, Decision } from "../core/requests/request.js";
import { writeDecision, requestsDir } from "../core/requests/request-store.js";
import { liftedDenies, stillDenying } from "../core/requests/request-rules.js";
import type { RiskFlag } from "../core/requests/risk-flags.js";
import { credentialHosts, egressRiskFlags, pushRiskFlags } from "../core/requests/risk-flags.js";
import { appendDecisionLog, decisionLogEntry } from "../core/state/decision-log.js";
import { bottleRef } from "./bottle-ref.js";
import type { PolicyEffect } from "./policy.js";
import { policyInForce, updatePolicy } from "./policy.js";
import type { BranchChange } from "./push-branches.js";
import { branchChanges, grantPushBranch } from "./push-branches.js";
import type { RequestView } from "./requests.js";
import { findRequest } from "./requests.js";
import type { ImageChangePreview } from "./image-change.js";
import { previewImageChange, storeImageChange } from "./image-change.js";

export type { GrantOptions } from "../core/requests/grant.js";

export interface ApprovalPreview {
  identity: string;
  bottle_status: RequestView["bottle_status"];
  /** The request as shown; its revision binds the approval. */
  request: BottleRequest;
  options: GrantOptions;
  /** Who approves (`cli:<user>`, `dashboard:<user>`). */
  by: string;
  /** The decision that would be written (its times are set again when applied). */
  decision: Decision;
  /** Egress: the rule the bottle would get. */
  rule: PlanEgressRule | null;
  /** Egress: deny patterns the approval lifts (they name the granted host exactly). */
  lifts: string[];
  /** Egress: deny patterns that still cover the host (a wildcard deny): the grant has no effect
   * while they stand. */
  still_denied_by: string[];
  /** Push branches: each git entry's patterns before and after. */
  branches: BranchChange[];
  /** Risks computed by the project from the grant and the bottle, never from the agent's reason. */
  flags: RiskFlag[];
  /** Image: the change as a diff against the bottle's recipe. */
  image: ImageChangePreview | null;
}

export interface ApprovalResult {
  identity: string;
  decision: Decision;
  rule: PlanEgressRule | null;
  /** `live`: in force in the running bottle now; `on-resume`: from its next resume; `none`: no
   * rule to apply (an image request: the decision is what the image change reads). */
  effect: PolicyEffect | "none";
  /** Image: the change is stored and the bottle waits for a rebuild (restart or resume). */
  image: { rebuildPending: boolean } | null;
}

/** Refuses a request that already has a decision in force (approved or denied, not expired). */
function refuseDecided(view: RequestView): void {
  if (view.status === "pending" || view.status === "expired") return;
  throw new BottleError(
    "request_decided",
    `Request ${view.request.id} of ${view.identity} is already ${view.status} (by ${view.decision?.by ?? "?"} at ${view.decision?.decided_at ?? "?"}).`,
    {
      hint:
        view.status === "approved"
          ? `Its grant is in force: \`${commandLines.policyList(view.identity)}\` shows it; \`${commandLines.policyRemoveRequest(view.identity, view.request.id)}\` takes an egress rule back.`
          : "The agent can ask again; a new request gets a new id.",
    },
  );
}

function pushOptionsCheck(request: BottleRequest, options: GrantOptions): void {
  if (request.spec.kind === "egress") return;
  if ((options.scope ?? "bottle") !== "bottle") {
    throw new BottleError(
      "usage",
      `A ${request.spec.kind} request is approved for the bottle only; --once and --for apply to egress requests.`,
    );
  }
}

/**
 * What approving `reference` (`r-1a2b3c` or `<identity>/r-1a2b3c`) with `options` would grant.
 * Writes nothing. Throws `request_unknown`, `request_decided`, `usage` (an option that would widen
 * the request, a bad duration), or `bottle_not_running` when a running bottle's sidecar does not
 * answer (its rules in force are needed for the risk flags).
 */
export async function previewApproval(
  host: HostEnv,
  reference: string,
  options: GrantOptions,
  by: string,
  now = new Date(),
): Promise<ApprovalPreview> {
  const view = findRequest(host, reference, now);
  refuseDecided(view);
  pushOptionsCheck(view.request, options);
  const ref = bottleRef(host, view.identity);
  const grant = approve(view.request, options, by, now);
  const preview: ApprovalPreview = {
    identity: view.identity,
    bottle_status: view.bottle_status,
    request: view.request,
    options,
    by,
    decision: grant.decision,
    rule: grant.rule,
    lifts: [],
    still_denied_by: [],
    branches: [],
    flags: [],
    image: null,
  };
  const granted = grant.decision.granted;
  if (granted?.kind === "egress") {
    const { rules } = await policyInForce(host, view.identity);
    preview.lifts = liftedDenies(rules, granted.egress.host);
    preview.still_denied_by = stillDenying(rules, granted.egress.host);
    preview.flags = egressRiskFlags(
      granted.egress,
      {
        rules,
        credentialHosts: credentialHosts(ref.plan?.credentials ?? [], ref.plan?.git ?? []),
      },
      options.internal === true,
    );
  } else if (granted?.kind === "push-branch") {
    preview.branches = branchChanges(ref, granted.push_branch);
    preview.flags = pushRiskFlags(granted.push_branch.pattern);
  } else if (granted?.kind === "image") {
    preview.image = previewImageChange(ref.paths.dir, view.request);
    preview.flags = preview.image.risks.map((r) => ({
      code: r.code,
      text: `line ${r.line}: ${r.text}`,
    }));
  }
  return preview;
}

/**
 * Applies an approval the operator was shown. The request is read again: if it changed since
 * (BottleError `request_changed`) or was decided meanwhile (`request_decided`), nothing is done and
 * the caller shows it again. The grant's times (decided_at, expiry) count from now.
 */
export async function applyApproval(
  host: HostEnv,
  preview: ApprovalPreview,
  now = new Date(),
): Promise<ApprovalResult> {
  const view = findRequest(host, `${preview.identity}/${preview.request.id}`, now);
  checkShownRevision(view.request, preview.request.revision);
  refuseDecided(view);
  const ref = bottleRef(host, view.identity);
  if (preview.image !== null) {
    // The diff shown was against the recipe then; another change approved since moves it on.
    const again = previewImageChange(ref.paths.dir, view.request);
    if (again.currentHash !== preview.image.currentHash) {
      throw new BottleError(
        "request_changed",
        `The image recipe of ${ref.identity} changed since the change was shown; nothing was approved.`,
        { hint: "Look at the change again: the diff is now against the new recipe." },
      );
    }
  }
  const { decision, rule } = approve(view.request, preview.options, preview.by, now);
  let effect: ApprovalResult["effect"] = "none";
  if (rule !== null) {
    effect = (await updatePolicy(ref, { op: "grant", rule })).effect;
  } else if (decision.granted?.kind === "push-branch") {
    effect = await grantPushBranch(ref, decision, decision.granted.push_branch);
  }
  writeDecision(requestsDir(ref.paths.dir), decision);
  const image =
    decision.granted?.kind === "image"
      ? storeImageChange(ref.paths.dir, view.request, decision)
      : null;
  appendDecisionLog(
    ref.paths,
    decisionLogEntry(ref.identity, view.request, decision, preview.flags, effect),
  );
  return { identity: ref.identity, decision, rule, effect, image };
}
