/**
 * Requests on disk: `state/<identity>/requests/<id>.json` (written by the sidecar only) and
 * `<id>.decision.json` (written by the host only), each written atomically. Files are 0644: they
 * hold no secrets, and the sidecar may run as another user than the operator's CLI.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseContract } from "../contract/contract.js";
import { BottleError } from "../errors.js";
import { writeJsonAtomic } from "../state/bottle-state.js";
import {
  MAX_PENDING,
  REASON_MAX_CHARS,
  decisionSchema,
  requestSchema,
  type BottleRequest,
  type Decision,
  type RequestSpec,
} from "./request.js";
import { mergeSpec, requestKey, requestStatus } from "./request-merge.js";

export const REQUESTS_DIR = "requests";

export interface StoredRequest {
  request: BottleRequest;
  decision: Decision | undefined;
}

/** The requests folder inside a bottle's state folder (host) or the sidecar's state mount. */
export function requestsDir(stateDir: string): string {
  return path.join(stateDir, REQUESTS_DIR);
}

function requestFile(dir: string, id: string): string {
  return path.join(dir, `${id}.json`);
}

function decisionFile(dir: string, id: string): string {
  return path.join(dir, `${id}.decision.json`);
}

function readParsed<T>(file: string, parse: (value: unknown) => T): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  return parse(JSON.parse(text) as unknown);
}

/** One request and its decision, or undefined when no such request exists. Throws on a bad file. */
export function readRequest(dir: string, id: string): StoredRequest | undefined {
  if (!/^r-[0-9a-f]{6,12}$/.test(id)) return undefined;
  const request = readParsed(requestFile(dir, id), (v) => parseContract(requestSchema, v, id));
  if (request === undefined) return undefined;
  const decision = readParsed(decisionFile(dir, id), (v) =>
    parseContract(decisionSchema, v, `${id} decision`),
  );
  return { request, decision };
}

/** Every request of one bottle, oldest first. A malformed file is skipped, never half-read. */
export function listRequests(dir: string): StoredRequest[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: StoredRequest[] = [];
  for (const name of names) {
    const match = /^(r-[0-9a-f]{6,12})\.json$/.exec(name);
    if (match?.[1] === undefined) continue;
    try {
      const stored = readRequest(dir, match[1]);
      if (stored !== undefined) found.push(stored);
    } catch {
      // A file that does not parse is not a request; `bottle requests` reports nothing for it.
    }
  }
  return found.sort((a, b) => a.request.first_seen.localeCompare(b.request.first_seen));
}

export interface FiledRequest {
  request: BottleRequest;
  /** True when the ask merged into a pending request with the same key. */
  merged: boolean;
  /** True when the reason was cut to REASON_MAX_CHARS. */
  reasonCut: boolean;
}

/**
 * Files what the agent asked for (sidecar side). A repeat of a pending request merges into it
 * (hits, last seen, a wider spec bumps the revision); otherwise a new request is made, unless the
 * bottle already has MAX_PENDING pending ones (BottleError `request_limit`; nothing is written).
 */
export function fileRequest(
  dir: string,
  identity: string,
  spec: RequestSpec,
  reason: string,
  now = new Date(),
): FiledRequest {
  const reasonCut = reason.length > REASON_MAX_CHARS;
  const kept = reason.slice(0, REASON_MAX_CHARS);
  const all = listRequests(dir);
  const pending = all.filter((s) => requestStatus(s.request, s.decision, now) === "pending");
  const key = requestKey(spec);
  const same = pending.find((s) => requestKey(s.request.spec) === key);
  const at = now.toISOString();
  if (same !== undefined) {
    const { spec: mergedSpec, changed } = mergeSpec(same.request.spec, spec);
    const request: BottleRequest = {
      ...same.request,
      spec: mergedSpec,
      reason: kept.length > 0 ? kept : same.request.reason,
      revision: same.request.revision + (changed ? 1 : 0),
      hits: same.request.hits + 1,
      last_seen: at,
    };
    writeJsonAtomic(requestFile(dir, request.id), request, 0o644);
    return { request, merged: true, reasonCut };
  }
  if (pending.length >= MAX_PENDING) {
    throw new BottleError(
      "request_limit",
      `This bottle already has ${MAX_PENDING} pending requests; no new one was filed.`,
      {
        hint: "Wait for the operator to decide the pending ones (wait_for_decision), or repeat one of them: repeats merge.",
      },
    );
  }
  let id: string;
  do id = `r-${crypto.randomBytes(3).toString("hex")}`;
  while (all.some((s) => s.request.id === id) || fs.existsSync(requestFile(dir, id)));
  const request: BottleRequest = {
    id,
    identity,
    spec,
    reason: kept,
    revision: 1,
    hits: 1,
    first_seen: at,
    last_seen: at,
  };
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeJsonAtomic(requestFile(dir, id), request, 0o644);
  return { request, merged: false, reasonCut };
}

/** Records the operator's decision (host side), replacing an earlier one. */
export function writeDecision(dir: string, decision: Decision): void {
  parseContract(decisionSchema, decision, `${decision.request_id} decision`);
  writeJsonAtomic(decisionFile(dir, decision.request_id), decision, 0o644);
}
