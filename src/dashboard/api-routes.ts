/**
 * The JSON API under /api/: the same data and actions the page uses, so scripts can use them
 * too. Every action is carried out by the operator layer (src/operator/), the one implementation
 * the CLI uses as well; nothing here decides anything about a bottle itself.
 *
 *   GET  /api/bottles                 WireBottle[]
 *   GET  /api/requests                WireRequest[] (pending first)
 *   GET  /api/traffic?after=&limit=&bottle=   { entries: WireTraffic[], more }
 *   GET  /api/policy?bottle=ID        WirePolicy
 *   GET  /api/events                  server-sent events: traffic, requests (event-stream.ts)
 *   POST /api/actions                 one action (api-types.ts) -> { done } or a preview
 *
 * Handlers take a read request and answer plain data; the server (dashboard-server.ts) does the
 * HTTP. Errors: a body that does not parse is 400 with the reason and changes nothing; a
 * BottleError becomes 404 (unknown bottle or request), 409 (refused in this state) or 400
 * (bad input), with its message and hint.
 */
import { z } from "zod";
import type { ErrorCode } from "../core/errors.js";
import { isBottleError } from "../core/errors.js";
import { listBottles } from "../operator/list.js";
import type { OperatorContext } from "../operator/operator-context.js";
import { resumeBottle } from "../operator/resume.js";
import { stopBottle } from "../operator/stop.js";
import type { ApiRequest, ApiResponse, ParsedAction } from "./api-types.js";
import { actionSchema, ok, problem } from "./api-types.js";
import type { RequestsView } from "./request-actions.js";
import {
  approveAction,
  denyAction,
  policyAction,
  policyView,
  previewAction,
} from "./request-actions.js";
import type { TrafficFeed } from "./traffic-feed.js";
import type { WireBottle } from "./wire.js";

export interface ApiDeps {
  op: OperatorContext;
  feed: TrafficFeed;
  requests: RequestsView;
  /** Who acts, as decisions and rules record it (`dashboard:<user>`). */
  by: string;
  /** One line per action the operator took (never a secret: ids, hosts, verdicts). */
  log: (line: string) => void;
}

const MAX_PAGE = 2000;

function trafficPage(req: ApiRequest, deps: ApiDeps): ApiResponse {
  const after = Number(req.query.get("after") ?? "0");
  const limit = Number(req.query.get("limit") ?? String(MAX_PAGE));
  if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1)
    return problem(400, "after and limit are whole numbers (limit 1 to 2000).");
  const bottle = req.query.get("bottle");
  const entries = deps.feed.since(after).filter((e) => bottle === null || e.bottle === bottle);
  const page = Math.min(limit, MAX_PAGE);
  return ok({ entries: entries.slice(0, page), more: entries.length > page });
}

async function runAction(action: ParsedAction, deps: ApiDeps): Promise<ApiResponse> {
  const { op, by } = deps;
  switch (action.action) {
    case "stop":
      await stopBottle(op, action.bottle);
      deps.log(`stopped ${action.bottle}`);
      return ok({ done: `Bottle ${action.bottle} stopped; its state is kept.` });
    case "resume":
      await resumeBottle(op, action.bottle, () => undefined);
      deps.log(`resumed ${action.bottle}`);
      return ok({ done: `Bottle ${action.bottle} is running again.` });
    case "preview":
      return ok(await previewAction(op, action, by));
    case "approve": {
      const result = await approveAction(op, action, by);
      deps.log(`approved ${action.request} (${action.scope})`);
      return ok(result);
    }
    case "deny": {
      const result = denyAction(op, action, by);
      deps.log(`denied ${action.request}`);
      return ok(result);
    }
    case "policy-allow":
    case "policy-remove": {
      const result = await policyAction(op, action, by);
      deps.log(`${action.action} ${action.host} in ${action.bottle}`);
      return ok(result);
    }
  }
}

/** The HTTP status of an operator error: unknown (404), refused in this state (409), bad input (400). */
function statusOf(code: ErrorCode, exitCode: number): number {
  switch (code) {
    case "bottle_unknown":
    case "request_unknown":
      return 404;
    case "request_changed":
    case "request_decided":
    case "request_limit":
    case "bottle_not_running":
      return 409;
    default:
      return exitCode === 2 ? 400 : 409;
  }
}

function errorResponse(error: unknown): ApiResponse {
  if (!isBottleError(error)) throw error;
  return problem(statusOf(error.code, error.exitCode), error.message, error.hint);
}

/** Answers one API request; throws only on a defect (the server answers 500 then). */
export async function handleApi(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    const route = `${req.method} ${req.pathname}`;
    switch (route) {
      case "GET /api/bottles": {
        const bottles: WireBottle[] = await listBottles(deps.op);
        return ok(bottles);
      }
      case "GET /api/requests":
        return ok(await deps.requests.list());
      case "GET /api/traffic":
        return trafficPage(req, deps);
      case "GET /api/policy":
        return ok(await policyView(deps.op, req.query.get("bottle") ?? ""));
      case "POST /api/actions": {
        const parsed = actionSchema.safeParse(req.body);
        if (!parsed.success)
          return problem(400, `The action is malformed: ${z.prettifyError(parsed.error)}`);
        return await runAction(parsed.data, deps);
      }
      default:
        return problem(404, `No API ${route}.`);
    }
  } catch (error) {
    return errorResponse(error);
  }
}
