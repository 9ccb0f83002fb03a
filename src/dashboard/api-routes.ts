/**
 * The JSON API under /api/: the same data and actions the page uses, so scripts can use them
 * too. Every action is carried out by the operator layer (src/operator/), the one implementation
 * the CLI uses as well; nothing here decides anything about a bottle itself.
 *
 * Handlers take a read request and answer plain data; the server (dashboard-server.ts) does the
 * HTTP. Errors: a body that does not parse is 400 with the reason and changes nothing; a
 * BottleError becomes 404 (unknown bottle or request), 409 (refused in this state) or 400
 * (bad input), with its message and hint.
 */
import { z } from "zod";
import { isBottleError } from "../core/errors.js";
import { listBottles } from "../operator/list.js";
import type { OperatorContext } from "../operator/operator-context.js";
import { resumeBottle } from "../operator/resume.js";
import { stopBottle } from "../operator/stop.js";
import type { Action, ApiRequest, ApiResponse } from "./api-types.js";
import { actionSchema, ok, problem } from "./api-types.js";
import type { TrafficFeed } from "./traffic-feed.js";

export interface ApiDeps {
  op: OperatorContext;
  feed: TrafficFeed;
  /** One line per action the operator took (never a secret: ids, hosts, verdicts). */
  log: (line: string) => void;
}

const MAX_PAGE = 2000;

function trafficPage(req: ApiRequest, deps: ApiDeps): ApiResponse {
  const after = Number(req.query.get("after") ?? "0");
  const limit = Math.min(Number(req.query.get("limit") ?? String(MAX_PAGE)), MAX_PAGE);
  if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1)
    return problem(400, "after and limit are whole numbers (limit 1 to 2000).");
  const bottle = req.query.get("bottle");
  const entries = deps.feed.since(after).filter((e) => bottle === null || e.bottle === bottle);
  return ok({ entries: entries.slice(0, limit), more: entries.length > limit });
}

async function runAction(action: Action, deps: ApiDeps): Promise<ApiResponse> {
  switch (action.action) {
    case "stop":
      await stopBottle(deps.op, action.bottle);
      deps.log(`stopped ${action.bottle}`);
      return ok({ done: `Bottle ${action.bottle} stopped; its state is kept.` });
    case "resume":
      await resumeBottle(deps.op, action.bottle, () => undefined);
      deps.log(`resumed ${action.bottle}`);
      return ok({ done: `Bottle ${action.bottle} is running again.` });
  }
}

function errorResponse(error: unknown): ApiResponse {
  if (!isBottleError(error)) throw error;
  const status =
    error.code === "bottle_unknown" || error.code === "request_unknown"
      ? 404
      : error.exitCode === 2
        ? 400
        : 409;
  return problem(status, error.message, error.hint);
}

/** Answers one API request; throws only on a defect (the server answers 500 then). */
export async function handleApi(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    const route = `${req.method} ${req.pathname}`;
    switch (route) {
      case "GET /api/bottles":
        return ok(await listBottles(deps.op));
      case "GET /api/traffic":
        return trafficPage(req, deps);
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
