/**
 * What the parts of the egress proxy share: the decision (failing closed), the audit sink (that
 * never throws), content checks, how upstreams are resolved and dialled, and the limits. Built
 * once per proxy from its options; no module state.
 */
import type net from "node:net";
import { GATE_CONNECTIONS } from "../../core/contract/sidecar-limits.js";
import type { BufferBudget } from "../shared/buffer-budget.js";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import type { AuditEntry } from "./egress-audit-entry.js";
import type { ContentInspector, DlpMode } from "../shared/content-inspector.js";
import type { EgressDecision, EgressRequest } from "./egress-policy.js";
import type { InternalRanges } from "./ip-address.js";
import type { Resolver } from "./upstream-address.js";
import type { UpstreamTls } from "./upstream-connection.js";

/**
 * Opens a TCP connection to an upstream at a checked address; net.connect unless injected.
 * `onread`, when given, is passed to net.connect (a passthrough tunnel's reused read buffer); a
 * dial that ignores it still works (the tunnel then copies the 'data' events).
 */
export type EgressDial = (address: string, port: number, onread?: net.OnReadOpts) => net.Socket;

export interface EgressLimits {
  /** Largest request head (request line and headers), in bytes. */
  maxHeaderBytes: number;
  /** Time a client has to send a complete request head. */
  headersTimeoutMs: number;
  /** A tunnel or connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** Open tunnels at once; more are answered 503. */
  maxTunnels: number;
  /** Largest request body the content checks read; a larger one is refused when DLP blocks. */
  maxInspectedBodyBytes: number;
  /** Largest WebSocket frame passed on. */
  maxWebSocketFrameBytes: number;
  /** Largest WebSocket message (its fragments together) held to be judged whole. */
  maxWebSocketMessageBytes: number;
  /** Time an upstream has to answer a request with its response head. */
  upstreamTimeoutMs: number;
  /** Open client connections at once (tunnels included); more get 503 unread. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: EgressLimits = {
  maxHeaderBytes: 32 * 1024,
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 10 * 60_000,
  maxTunnels: 512,
  maxInspectedBodyBytes: 16 * 1024 * 1024,
  maxWebSocketFrameBytes: 16 * 1024 * 1024,
  maxWebSocketMessageBytes: 16 * 1024 * 1024,
  upstreamTimeoutMs: 5 * 60_000,
  maxConnections: GATE_CONNECTIONS.egress,
};

export interface EgressGate {
  decide(request: EgressRequest): EgressDecision;
  /**
   * Called when a request (or pass-through tunnel) allowed by `rule` is about to go out, after
   * every check passed: spends `rule` when it is a `once` rule. False: the rule is no longer in
   * force (another request spent it, the operator removed it) and nothing may go out. Never
   * throws (a callback that throws is false).
   */
  spend(rule: PlanEgressRule | undefined): boolean;
  audit(entry: AuditEntry): void;
  inspector: ContentInspector | undefined;
  dlp: DlpMode;
  ranges: InternalRanges;
  resolve: Resolver;
  dial: EgressDial;
  /** Upstream TLS: the trusted roots (one shared context) and sessions to resume. */
  upstreamTls: UpstreamTls;
  limits: EgressLimits;
  /** Request bodies held in memory, shared with the sidecar's other gates. */
  budget: BufferBudget;
  /** Registers a socket so stop() can destroy it, and swallows its errors. */
  track(socket: net.Socket): void;
  /** The bottle has the supervise gate: denials tell the agent to ask with request_egress. */
  supervise: boolean;
}

/** Where an allowed request goes: the judged host, the pinned address, and how. */
export interface UpstreamTarget {
  host: string;
  port: number;
  /** The checked address that is dialled (never resolved again). */
  address: string;
  /** TLS to the upstream (an intercepted tunnel). */
  secure: boolean;
  rule: PlanEgressRule | undefined;
}
