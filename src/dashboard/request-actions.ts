/**
 * The requests and policy part of the API: each action calls the operator layer (approve.ts,
 * deny.ts, policy.ts, requests.ts in src/operator/), exactly as `bottle approve`, `bottle deny`
 * and `bottle policy` do. What is decided here is only which of those to call with what.
 */
import fs from "node:fs";
import { BottleError } from "../core/errors.js";
import { requestsDir } from "../core/requests/request-store.js";
import { bottlePaths, listStateIdentities } from "../core/state/bottle-state.js";
import { parseDuration } from "../core/plan/units.js";
import type { ApprovalPreview, GrantOptions } from "../operator/approve.js";
import { applyApproval, previewApproval } from "../operator/approve.js";
import { denyRequest } from "../operator/deny.js";
import type { OperatorContext } from "../operator/operator-context.js";
import { changePolicy, policyInForce } from "../operator/policy.js";
import type { RequestView } from "../operator/requests.js";
import { listAllRequests } from "../operator/requests.js";
import { checkShownRevision } from "../core/requests/grant.js";
import type { ParsedAction } from "./api-types.js";
import type { WireFlag, WirePolicy, WirePreview, WireRequest } from "./wire.js";

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

type GrantAction = Extract<ParsedAction, { action: "preview" | "approve" }>;

function grantOptions(action: GrantAction): GrantOptions {
  let durationMs: number | undefined;
  if (action.scope === "for") {
    if (action.duration === undefined)
      throw new BottleError("usage", "Scope `for` needs a duration (30m, 1h, 2d).");
    try {
      durationMs = parseDuration(action.duration);
    } catch {
      throw new BottleError("usage", `"${action.duration}" is not a duration.`, {
        hint: "Write it as 30m, 1h or 2d.",
      });
    }
  }
  return {
    scope: action.scope,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(action.methods === undefined ? {} : { methods: action.methods }),
    ...(action.paths === undefined ? {} : { paths: action.paths }),
    ...(action.note === undefined ? {} : { note: action.note }),
    ...(action.internal === undefined ? {} : { internal: action.internal }),
  };
}

function wirePreview(preview: ApprovalPreview): WirePreview {
  return {
    identity: preview.identity,
    request: preview.request,
    rule: preview.rule,
    lifts: preview.lifts,
    flags: preview.flags,
    decision: preview.decision,
  };
}

export async function previewAction(
  op: OperatorContext,
  action: GrantAction,
  by: string,
): Promise<WirePreview> {
  return wirePreview(await previewApproval(op.host, action.request, grantOptions(action), by));
}

/** Approves the revision the operator saw; BottleError `request_changed` if it moved since. */
export async function approveAction(
  op: OperatorContext,
  action: Extract<ParsedAction, { action: "approve" }>,
  by: string,
): Promise<{ done: string; effect: string }> {
  const preview = await previewApproval(op.host, action.request, grantOptions(action), by);
  checkShownRevision(preview.request, action.revision);
  const result = await applyApproval(op.host, preview);
  const where =
    result.effect === "live"
      ? "in force in the running bottle"
      : result.effect === "on-resume"
        ? "in force from the next resume"
        : "recorded";
  return { done: `Approved ${action.request}: ${where}.`, effect: result.effect };
}

export function denyAction(
  op: OperatorContext,
  action: Extract<ParsedAction, { action: "deny" }>,
  by: string,
): { done: string } {
  denyRequest(op.host, action.request, {
    by,
    ...(action.reason === undefined || action.reason === "" ? {} : { reason: action.reason }),
  });
  return { done: `Denied ${action.request}.` };
}

export async function policyAction(
  op: OperatorContext,
  action: Extract<ParsedAction, { action: "policy-allow" | "policy-remove" }>,
  by: string,
): Promise<{ done: string }> {
  const update = await changePolicy(
    op.host,
    action.bottle,
    action.action === "policy-remove"
      ? { kind: "remove", host: action.host }
      : {
          kind: "allow",
          host: action.host,
          tls: "intercept",
          internal: action.internal,
          ...(action.ports === undefined ? {} : { ports: action.ports }),
          ...(action.methods === undefined ? {} : { methods: action.methods }),
          ...(action.paths === undefined ? {} : { paths: action.paths }),
        },
    by,
  );
  const verb = action.action === "policy-remove" ? "removed" : "allowed";
  const where = update.effect === "live" ? "in force now" : "in force from the next resume";
  return { done: `${action.host} ${verb} in ${action.bottle}: ${where}.` };
}

export async function policyView(op: OperatorContext, identity: string): Promise<WirePolicy> {
  const found = await policyInForce(op.host, identity);
  return { identity, effect: found.effect, rules: found.rules };
}

/**
 * Every request (pending first), each with the risk flags of approving it as asked. Flags need
 * the bottle's rules in force (its sidecar), so they are computed once per request revision and
 * kept; a request whose flags cannot be computed yet shows none rather than failing.
 */
export class RequestsView {
  private readonly cache = new Map<string, { flags: WireFlag[]; diff: string | null }>();
  private lastSignature = "";
  private lastAt = 0;

  constructor(
    private readonly op: OperatorContext,
    private readonly by: string,
  ) {}

  /**
   * Whether the requests may have changed since the last call: a request or decision file is
   * written by rename, which changes its folder's time; a bottle's status is in its metadata;
   * expiry depends on the clock, so every `maxAgeMs` counts as a change too.
   */
  changed(now = Date.now(), maxAgeMs = 5000): boolean {
    const parts: string[] = [];
    for (const identity of listStateIdentities(this.op.host)) {
      const paths = bottlePaths(this.op.host, identity);
      parts.push(identity, String(mtime(requestsDir(paths.dir))), String(mtime(paths.metadata)));
    }
    const signature = parts.join("|");
    if (signature === this.lastSignature && now - this.lastAt < maxAgeMs) return false;
    this.lastSignature = signature;
    this.lastAt = now;
    return true;
  }

  async list(): Promise<WireRequest[]> {
    const views = listAllRequests(this.op.host, { all: true });
    const out: WireRequest[] = [];
    for (const view of views) out.push({ ...view, ...(await this.previewOf(view)) });
    return out;
  }

  /** The flags (and, for an image change, the diff) the approve preview shows, per revision. */
  private async previewOf(view: RequestView): Promise<{ flags: WireFlag[]; diff: string | null }> {
    if (view.status !== "pending") return { flags: [], diff: null };
    const key = `${view.identity}/${view.request.id}@${view.request.revision}`;
    const known = this.cache.get(key);
    if (known !== undefined) return known;
    try {
      const preview = await previewApproval(
        this.op.host,
        `${view.identity}/${view.request.id}`,
        {},
        this.by,
      );
      const shown = { flags: preview.flags, diff: preview.image?.diff ?? null };
      this.cache.set(key, shown);
      return shown;
    } catch {
      // The sidecar did not answer (yet): no flags now, asked again on the next look.
      return { flags: [], diff: null };
    }
  }
}
