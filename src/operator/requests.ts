/**
 * The agents' requests as the operator sees them, across bottles (CLI `bottle requests`, the
 * dashboard): listing, finding one by id, and watching for new ones. Reads the state home only
 * (`state/<identity>/requests/`); works on stopped bottles too. No terminal I/O.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BottleError } from "../core/errors.js";
import type { HostEnv } from "../core/host/paths.js";
import type { BottleRequest, Decision, RequestStatus } from "../core/requests/request.js";
import { requestStatus } from "../core/requests/request-merge.js";
import { listRequests, readRequest, requestsDir } from "../core/requests/request-store.js";
import type { BottleStatus } from "../core/state/bottle-state.js";
import { bottlePaths, listStateIdentities, readMetadata } from "../core/state/bottle-state.js";
import { commandLines } from "../core/command-lines.js";

export interface RequestView {
  identity: string;
  /** The bottle's status; a decision on a stopped bottle applies on resume. */
  bottle_status: BottleStatus | "unknown";
  request: BottleRequest;
  /** The decision on file, which may be on an older revision (then the request is pending). */
  decision: Decision | undefined;
  status: RequestStatus;
}

export interface ListOptions {
  /** Only this bottle's requests. */
  identity?: string;
  /** Decided requests too (default: pending only). */
  all?: boolean;
}

function viewsOf(host: HostEnv, identity: string, now: Date): RequestView[] {
  const paths = bottlePaths(host, identity);
  const status = readMetadata(paths)?.status ?? "unknown";
  return listRequests(requestsDir(paths.dir)).map(({ request, decision }) => ({
    identity,
    bottle_status: status,
    request,
    decision,
    status: requestStatus(request, decision, now),
  }));
}

/**
 * Requests of every bottle (or one): pending first, oldest first (the one waiting longest on
 * top); with `all`, decided ones after them, most recently decided first.
 */
export function listAllRequests(
  host: HostEnv,
  options: ListOptions = {},
  now = new Date(),
): RequestView[] {
  const identities =
    options.identity === undefined ? listStateIdentities(host) : [options.identity];
  const views = identities.flatMap((identity) => viewsOf(host, identity, now));
  const pending = views
    .filter((v) => v.status === "pending")
    .sort((a, b) => a.request.first_seen.localeCompare(b.request.first_seen));
  if (options.all !== true) return pending;
  const decided = views
    .filter((v) => v.status !== "pending")
    .sort((a, b) => (b.decision?.decided_at ?? "").localeCompare(a.decision?.decided_at ?? ""));
  return [...pending, ...decided];
}

/**
 * One request by reference: its id (`r-1a2b3c`, looked up in every bottle) or
 * `<identity>/<id>`. Throws BottleError `request_unknown` when there is none, or `usage` when
 * two bottles hold the id (name the bottle then).
 */
export function findRequest(host: HostEnv, reference: string, now = new Date()): RequestView {
  const [first, second] = reference.split("/");
  const id = second ?? first ?? "";
  const identities = second === undefined ? listStateIdentities(host) : [first ?? ""];
  const found: RequestView[] = [];
  for (const identity of identities) {
    const paths = bottlePaths(host, identity);
    const stored = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(identity)
      ? readRequest(requestsDir(paths.dir), id)
      : undefined;
    if (stored === undefined) continue;
    found.push({
      identity,
      bottle_status: readMetadata(paths)?.status ?? "unknown",
      request: stored.request,
      decision: stored.decision,
      status: requestStatus(stored.request, stored.decision, now),
    });
  }
  const [view] = found;
  if (view === undefined) {
    throw new BottleError("request_unknown", `No request ${reference}.`, {
      hint: `\`${commandLines.requests()}\` lists the pending requests of every bottle.`,
    });
  }
  if (found.length > 1) {
    throw new BottleError(
      "usage",
      `Request ${id} exists in ${found.map((v) => v.identity).join(" and ")}.`,
      {
        hint: `Name the bottle: ${found.map((v) => `${v.identity}/${id}`).join(" or ")}.`,
      },
    );
  }
  return view;
}

export interface RequestEvent {
  /** `new`: a request not seen before; `changed`: a repeat widened a pending one (new revision). */
  kind: "new" | "changed";
  view: RequestView;
}

export interface WatchOptions extends ListOptions {
  /** How often the state home is read (default 250 ms: a new request shows within 1 s). */
  intervalMs?: number;
  /** Ends the watch. */
  signal?: AbortSignal;
}

/**
 * Yields each request that appears after this call, and each pending request whose revision
 * changes, until `signal` aborts. The requests present at the call are read at once (not when
 * iteration starts), so one filed between this call and the first `next()` is not missed; they are
 * not yielded (list them with listAllRequests). Polls: the requests folder is written from inside
 * a container, where file events are not reliable on every backend.
 */
export function watchRequests(
  host: HostEnv,
  options: WatchOptions = {},
): AsyncGenerator<RequestEvent> {
  const key = (v: RequestView): string => `${v.identity}/${v.request.id}`;
  const seen = new Map<string, number>();
  for (const v of listAllRequests(host, { ...options, all: true })) {
    seen.set(key(v), v.request.revision);
  }
  return changes(host, options, seen, key);
}

async function* changes(
  host: HostEnv,
  options: WatchOptions,
  seen: Map<string, number>,
  key: (v: RequestView) => string,
): AsyncGenerator<RequestEvent> {
  const interval = options.intervalMs ?? 250;
  while (options.signal?.aborted !== true) {
    try {
      await sleep(interval, undefined, { signal: options.signal });
    } catch {
      return;
    }
    for (const view of listAllRequests(host, { ...options, all: true })) {
      const was = seen.get(key(view));
      if (was === view.request.revision) continue;
      seen.set(key(view), view.request.revision);
      if (was === undefined) yield { kind: "new", view };
      else if (view.status === "pending") yield { kind: "changed", view };
    }
  }
}
