/**
 * The shapes the API sends (PURE types, no imports beyond the request contract's): shared by the
 * server, which builds them, and the page, which reads them. The server annotates what it sends
 * with these, so a change on one side fails the other's type check.
 */
import type { BottleRequest, Decision, RequestStatus } from "../core/requests/request.js";

export interface WireBottle {
  identity: string;
  agent: string;
  provider: string;
  status: string;
  health: string;
  started_at: string | null;
  runtime: string;
  pending_requests: number;
  rebuild_pending: boolean;
}

export type WireVerdict = "allow" | "deny" | "error";

export interface WireTraffic {
  seq: number;
  bottle: string;
  log: "egress" | "credentials" | "git";
  time: string;
  kind: string;
  method: string;
  host: string;
  port: number | null;
  path: string | null;
  verdict: WireVerdict;
  rule: string | null;
  reason: string | null;
  status: number | null;
  duration_ms: number | null;
  finding: string | null;
  error: string | null;
}

export interface WireFlag {
  code: string;
  text: string;
}

export interface WireRequest {
  identity: string;
  bottle_status: string;
  request: BottleRequest;
  decision: Decision | undefined;
  status: RequestStatus;
  /** Risk flags of approving it as asked (the approve form shows those of the narrowed grant). */
  flags: WireFlag[];
  /** An image change: the unified diff of the bottle's recipe it would make; null otherwise. */
  diff: string | null;
}

export interface WireRule {
  host: string;
  ports: number[];
  methods: string[] | null;
  paths: string[] | null;
  tls: string;
  internal: boolean;
  source: string;
  request_id: string | null;
  added_by: string | null;
  added_at: string | null;
  expires_at: string | null;
  once: boolean;
}

export interface WirePolicy {
  identity: string;
  /** `live`: read from the running sidecar; `on-resume`: the saved rules of a stopped bottle. */
  effect: string;
  rules: { allow: WireRule[]; deny: string[] };
}

export interface WirePreview {
  identity: string;
  request: BottleRequest;
  rule: WireRule | null;
  lifts: string[];
  flags: WireFlag[];
  decision: Decision;
}
