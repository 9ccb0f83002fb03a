/**
 * PURE: how repeats of a request merge, and what status a request has given its decision.
 */
import type { BottleRequest, Decision, RequestSpec, RequestStatus } from "./request.js";

/** Two requests with one key are the same ask: a repeat merges into the pending one. */
export function requestKey(spec: RequestSpec): string {
  switch (spec.kind) {
    case "egress":
      return `egress:${spec.egress.host.toLowerCase()}`;
    case "push-branch":
      return `push-branch:${spec.push_branch.entry ?? "*"}:${spec.push_branch.pattern}`;
    case "image":
      return `image:${spec.image.dockerfile.trimEnd()}`;
  }
}

/** null (any) absorbs everything; otherwise the sorted union. */
function union<T extends string | number>(a: T[] | null, b: T[] | null): T[] | null {
  if (a === null || b === null) return null;
  return [...new Set([...a, ...b])].sort();
}

/**
 * The spec of a pending request after a repeat asked for `next`: egress ports, methods and paths
 * widen to the union of both asks (the operator then sees, and approves, the wider one). Returns
 * whether anything changed, which bumps the request's revision.
 */
export function mergeSpec(
  current: RequestSpec,
  next: RequestSpec,
): { spec: RequestSpec; changed: boolean } {
  if (current.kind !== "egress" || next.kind !== "egress") return { spec: current, changed: false };
  const merged: RequestSpec = {
    kind: "egress",
    egress: {
      host: current.egress.host,
      ports: union(current.egress.ports, next.egress.ports),
      methods: union(current.egress.methods, next.egress.methods),
      paths: union(current.egress.paths, next.egress.paths),
    },
  };
  return { spec: merged, changed: JSON.stringify(merged) !== JSON.stringify(current) };
}

/**
 * A request's status: pending until decided; a decision on an older revision than the request's
 * (the request widened after the operator saw it) counts as none; a time-limited approval past
 * its end is expired.
 */
export function requestStatus(
  request: BottleRequest,
  decision: Decision | undefined,
  now: Date,
): RequestStatus {
  if (decision === undefined || decision.revision !== request.revision) return "pending";
  if (
    decision.status === "approved" &&
    decision.expires_at !== null &&
    Date.parse(decision.expires_at) <= now.getTime()
  ) {
    return "expired";
  }
  return decision.status;
}
