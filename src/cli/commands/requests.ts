/**
 * `bottle requests`, `bottle approve`, `bottle deny`: the operator's side of supervise. The
 * actions are the operator layer's (src/operator/); these parse options, render, and ask y/N.
 */
import { BottleError, isBottleError } from "../../core/errors.js";
import { parseDuration } from "../../core/plan/units.js";
import type { DecisionScope } from "../../core/requests/request.js";
import type { GrantOptions } from "../../operator/approve.js";
import { applyApproval, previewApproval } from "../../operator/approve.js";
import { denyRequest } from "../../operator/deny.js";
import { findRequest, listAllRequests, watchRequests } from "../../operator/requests.js";
import type { ImageChangePreview } from "../../operator/image-change.js";
import { previewImageChange } from "../../operator/image-change.js";
import { bottlePaths } from "../../core/state/bottle-state.js";
import { offerRestart } from "./image-restart.js";
import type { CommandContext } from "../context.js";
import { operatorName } from "../context.js";
import {
  renderApprovalPreview,
  renderApproved,
  renderRequestDetail,
  renderRequestTable,
  renderWatchLine,
} from "../render/requests.js";
import { confirmOrRefuse } from "./lifecycle-context.js";

export interface RequestsOptions {
  all: boolean;
  json: boolean;
  watch: boolean;
}

export async function requestsCommand(
  identity: string | undefined,
  options: RequestsOptions,
  ctx: CommandContext,
  signal?: AbortSignal,
): Promise<void> {
  if (identity !== undefined && isRequestReference(identity)) {
    showRequest(identity, options.json, ctx);
    return;
  }
  const filter = { ...(identity === undefined ? {} : { identity }), all: options.all };
  const controller = new AbortController();
  // Taken before the listing, so a request filed in between is either listed or watched.
  const events = options.watch
    ? watchRequests(ctx.host, { ...filter, signal: controller.signal })
    : undefined;
  const views = listAllRequests(ctx.host, filter);
  if (options.json && events === undefined) {
    ctx.io.out(JSON.stringify(views, null, 2));
    return;
  }
  if (!options.json) {
    if (views.length > 0) ctx.io.out(renderRequestTable(views));
    else if (events === undefined)
      ctx.io.err(options.all ? "No requests." : "No pending requests.");
  }
  if (events === undefined) return;
  ctx.io.err("Watching for new requests (Ctrl-C ends)...");
  const stop = (): void => {
    controller.abort();
  };
  signal?.addEventListener("abort", stop);
  process.once("SIGINT", stop);
  try {
    for await (const event of events) {
      ctx.io.out(options.json ? JSON.stringify(event) : renderWatchLine(event.kind, event.view));
    }
  } finally {
    process.off("SIGINT", stop);
  }
}

/** `r-1a2b3c` or `<identity>/r-1a2b3c`: one request rather than a bottle. */
function isRequestReference(text: string): boolean {
  return /^(?:[^/]+\/)?r-[0-9a-f]{6,12}$/.test(text);
}

/** `bottle requests REQ`: the request whole; an image change as a diff with its risk flags. */
function showRequest(reference: string, json: boolean, ctx: CommandContext): void {
  const view = findRequest(ctx.host, reference);
  let image: ImageChangePreview | null = null;
  if (view.request.spec.kind === "image") {
    try {
      image = previewImageChange(bottlePaths(ctx.host, view.identity).dir, view.request);
    } catch (error) {
      // A change the project refuses now (or a bottle without a recipe) is shown without a diff.
      ctx.io.err(`(no diff: ${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const flags = (image?.risks ?? []).map((r) => ({
    code: r.code,
    text: `line ${r.line}: ${r.text}`,
  }));
  if (json) ctx.io.out(JSON.stringify({ ...view, image, flags }, null, 2));
  else ctx.io.out(renderRequestDetail(view, image, flags));
}

export interface ApproveOptions {
  once: boolean;
  for?: string;
  bottle: boolean;
  methods?: string;
  paths?: string;
  internal: boolean;
  yes: boolean;
  restart?: boolean;
}

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** The grant the flags ask for; one scope at most. */
export function grantOptions(options: ApproveOptions): GrantOptions {
  const scopes: DecisionScope[] = [
    ...(options.once ? (["once"] as const) : []),
    ...(options.for === undefined ? [] : (["for"] as const)),
    ...(options.bottle ? (["bottle"] as const) : []),
  ];
  if (scopes.length > 1) {
    throw new BottleError("usage", "Give one scope: --once, --for DURATION or --bottle.");
  }
  let durationMs: number | undefined;
  if (options.for !== undefined) {
    try {
      durationMs = parseDuration(options.for);
    } catch {
      throw new BottleError("usage", `--for ${options.for} is not a duration.`, {
        hint: "Write it as 30s, 10m, 1h, 1h30m or 2d.",
      });
    }
  }
  const methods = list(options.methods);
  const paths = list(options.paths);
  return {
    scope: scopes[0] ?? "bottle",
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(methods === undefined ? {} : { methods }),
    ...(paths === undefined ? {} : { paths }),
    ...(options.internal ? { internal: true } : {}),
  };
}

/** Shows what would be granted, asks y/N (unless --yes), applies. Returns the exit code. */
export async function approveCommand(
  reference: string,
  options: ApproveOptions,
  ctx: CommandContext,
): Promise<number> {
  const grant = grantOptions(options);
  const by = operatorName(ctx);
  const preview = await previewApproval(ctx.host, reference, grant, by);
  ctx.io.err(renderApprovalPreview(preview));
  if (!(await confirmOrRefuse(ctx, "Approve?", options.yes))) {
    ctx.io.err("Not approved; nothing changed.");
    return 1;
  }
  try {
    const result = await applyApproval(ctx.host, preview);
    ctx.io.out(renderApproved(result));
    if (result.image?.rebuildPending === true)
      return await offerRestart(result.identity, result.decision.request_id, options, ctx);
    return 0;
  } catch (error) {
    if (isBottleError(error) && error.code === "request_changed") {
      // Show what it asks now, so the operator decides on that.
      const again = await previewApproval(
        ctx.host,
        `${preview.identity}/${preview.request.id}`,
        grant,
        by,
      );
      ctx.io.err(`\nIt now reads:\n${renderApprovalPreview(again)}`);
    }
    throw error;
  }
}

export function denyCommand(
  reference: string,
  options: { reason?: string },
  ctx: CommandContext,
): void {
  const result = denyRequest(ctx.host, reference, {
    by: operatorName(ctx),
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
  ctx.io.out(
    `denied ${result.decision.request_id} of ${result.identity}${result.decision.note === null ? "" : `: ${result.decision.note}`}; the agent's wait_for_decision returns it.`,
  );
}
