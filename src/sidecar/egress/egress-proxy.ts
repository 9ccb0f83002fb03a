/**
 * The egress proxy: an HTTP forward proxy (node:http) that is the agent's only way to the network.
 * It serves on a unix socket in the bottle's socket folder (the relay in the agent container maps
 * 127.0.0.1:3128 to it), or on TCP for tests.
 *
 * Contract:
 * - `CONNECT host:port` is judged on host and port (egress-policy.ts), then the host name on its
 *   content (labels that carry data), then its address: the name is resolved once, the answer
 *   checked against internal ranges (upstream-address.ts), and that checked address is the one
 *   dialled. Denied: `403` with `X-Bot-Bottle-Denied: <rule>` and a short text for the agent.
 *   Allowed under a `passthrough` rule: `200 Connection Established` and bytes flow both ways.
 *   Allowed otherwise: the tunnel is intercepted (tls-interception.ts) and every request inside is
 *   judged on method and path and checked for secrets.
 * - Absolute-form requests (`GET http://host:port/path`) are judged on host, port, method and
 *   path (plain-requests.ts), checked for secrets, and forwarded to the checked address
 *   (forward-request.ts), with
 *   `Host` set to the URL's authority. Origin-form and non-http requests get 400.
 * - Fail closed: a decide callback that throws, or returns anything but an allow, denies (rule
 *   `policy-error` for a throw). An upstream that cannot be reached gives 502.
 * - One audit line per request and per tunnel (when it closes), paths without their query, and
 *   any field taken from the request redacted where the content checks find data in it
 *   (audit-redaction.ts).
 * - Limits (egress-gate.ts): request head size and time, idle connections and tunnels, open
 *   tunnels (503 beyond), inspected body size. Errors on any socket are handled: a bad client or
 *   upstream never crashes the process. stop() destroys every open socket.
 */
import { BUFFERED_BYTES } from "../../core/contract/sidecar-limits.js";
import { BufferBudget } from "../shared/buffer-budget.js";
import http from "node:http";
import net from "node:net";
import type { BottleCa } from "../../core/tls/bottle-ca.js";
import type { PlanEgressRule } from "../../core/plan/bottle-plan.js";
import type { AuditEntry } from "./egress-audit-entry.js";
import type { ContentInspector, DlpMode } from "../shared/content-inspector.js";
import {
  DENIED_HEADER,
  clientErrorResponse,
  denialText,
  endWith,
  rawResponse,
  statusLine,
} from "./denial.js";
import type { EgressDial, EgressGate, EgressLimits } from "./egress-gate.js";
import { DEFAULT_LIMITS } from "./egress-gate.js";
import type { EgressDecision, EgressRequest } from "./egress-policy.js";
import { displayHost, normalizeRequestHost } from "./egress-policy.js";
import { redactAuditEntry } from "./audit-redaction.js";
import { InternalRanges } from "./ip-address.js";
import { LeafCertificates } from "./leaf-certificates.js";
import type { TunnelRecord } from "./tls-interception.js";
import { TlsInterception } from "./tls-interception.js";
import type { Resolver } from "./upstream-address.js";
import { resolveUpstream, systemResolver } from "./upstream-address.js";
import { passThrough } from "./passthrough-tunnel.js";
import { UpstreamTls } from "./upstream-connection.js";
import { ONCE_SPENT } from "./forward-request.js";
import { hostFinding, onPlainRequest, onPlainUpgrade, refusalStatus } from "./plain-requests.js";
import type { ListenTarget } from "../shared/gate-listen.js";
import { GateServer, guardedSink } from "../shared/gate-server.js";

export { DENIED_HEADER } from "./denial.js";
export type { EgressDial } from "./egress-gate.js";

export interface EgressProxyOptions {
  /** The policy decision; may throw (that denies). */
  decide: (request: EgressRequest) => EgressDecision;
  /**
   * Spends a `once` rule when a request it allowed goes out (after the content checks); false
   * or a throw: the rule is gone and the request is refused. Absent: once rules are never spent.
   */
  spend?: (rule: PlanEgressRule) => boolean;
  /** Receives one entry per request; may throw (ignored). */
  audit: (entry: AuditEntry) => void;
  /** Opens the TCP connection to a checked address; net.connect unless injected. */
  dial?: EgressDial;
  /** Resolves host names; the system resolver unless injected. */
  resolve?: Resolver;
  /** The bottle's CA; without it, a TLS tunnel under an intercept rule is closed. */
  ca?: BottleCa;
  /** Roots trusted for upstream TLS instead of Node's defaults (PEM certificates). */
  upstreamCa?: string[];
  /** Content checks; none when absent. */
  inspector?: ContentInspector;
  /** What a finding does; default block. */
  dlp?: DlpMode;
  limits?: Partial<EgressLimits>;
  /** Request bodies held in memory, shared with the other gates; its own when absent. */
  budget?: BufferBudget;
  /** The bottle has the supervise gate (denials name request_egress); default false. */
  supervise?: boolean;
}

export type { ListenTarget } from "../shared/gate-listen.js";

const POLICY_ERROR: EgressDecision = {
  verdict: "deny",
  rule: "policy-error",
  reason: "policy error: the bottle's policy could not be evaluated, so the request was denied",
};

/** `host:port` or `[v6]:port`; null when the target is not in that form. */
function parseConnectTarget(target: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@?#%\\]+)):(\d{1,5})$/.exec(target);
  if (match === null) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: normalizeRequestHost(match[1] ?? match[2] ?? ""), port };
}

export class EgressProxy {
  private readonly server: GateServer;
  private readonly gate: EgressGate;
  private readonly interception: TlsInterception;
  private tunnels = 0;

  constructor(options: EgressProxyOptions) {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const dial =
      options.dial ??
      ((address: string, port: number, onread?: net.OnReadOpts) =>
        net.connect({ host: address, port, ...(onread === undefined ? {} : { onread }) }));
    this.gate = {
      decide: (request) => {
        try {
          const decision = options.decide(request);
          if (decision.verdict === "allow") return { ...decision, verdict: "allow" };
          return { ...decision, verdict: "deny" };
        } catch {
          return POLICY_ERROR;
        }
      },
      spend: (rule) => {
        if (rule === undefined || !rule.once) return true;
        try {
          return options.spend?.(rule) ?? true;
        } catch {
          return false;
        }
      },
      audit: guardedSink((entry) => {
        const inspector = options.inspector;
        options.audit(inspector === undefined ? entry : redactAuditEntry(entry, inspector));
      }),
      inspector: options.inspector,
      dlp: options.dlp ?? "block",
      ranges: new InternalRanges(),
      resolve: options.resolve ?? systemResolver,
      dial,
      upstreamTls: new UpstreamTls(options.upstreamCa),
      limits,
      budget: options.budget ?? new BufferBudget(BUFFERED_BYTES),
      track: (socket) => {
        this.server.track(socket);
      },
      supervise: options.supervise ?? false,
    };
    this.interception = new TlsInterception(
      this.gate,
      options.ca === undefined ? undefined : new LeafCertificates(options.ca),
    );
    const server = http.createServer({
      requireHostHeader: false,
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(5_000, Math.max(100, limits.headersTimeoutMs / 4)),
      requestTimeout: 0,
      keepAliveTimeout: limits.idleTimeoutMs,
    });
    this.server = new GateServer(server, "the egress proxy", {
      maxConnections: limits.maxConnections,
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      void onPlainRequest(this.gate, req, res);
    });
    server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void this.onConnect(req, socket, head);
    });
    server.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      void onPlainUpgrade(this.gate, req, socket, head);
    });
    server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
      endWith(socket, clientErrorResponse(error));
    });
  }

  /** Listens on a unix socket (replacing a stale one, then mode 0666) or on TCP. */
  listen(target: ListenTarget): Promise<void> {
    return this.server.listen(target);
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    return this.server.address();
  }

  /** Open tunnels right now (for tests and health). */
  openTunnels(): number {
    return this.tunnels;
  }

  /** Stops accepting and destroys every open client, upstream and tunnel socket. */
  async stop(): Promise<void> {
    this.interception.stop();
    await this.server.stop();
  }

  private async onConnect(
    req: http.IncomingMessage,
    client: net.Socket,
    head: Buffer,
  ): Promise<void> {
    const started = Date.now();
    const time = new Date(started).toISOString();
    this.server.track(client);
    const rawTarget = req.url ?? "";
    const parsed = parseConnectTarget(rawTarget);
    const refuseTunnel = (entry: AuditEntry, decision: EgressDecision, status = 403): void => {
      const statusText = statusLine(status);
      const body = denialText(
        `CONNECT to ${displayHost(entry.host)}:${entry.port}`,
        entry.host,
        decision,
        { supervise: this.gate.supervise, port: entry.port },
      );
      endWith(client, rawResponse(statusText, { [DENIED_HEADER]: decision.rule ?? "deny" }, body));
      this.gate.audit({
        ...entry,
        verdict: "deny",
        rule: decision.rule,
        reason: decision.reason,
        status,
      });
    };
    if (parsed === null) {
      const reason = "the CONNECT target is not in the form host:port";
      endWith(client, rawResponse("400 Bad Request", {}, `bot-bottle egress proxy: ${reason}.\n`));
      this.gate.audit({
        time,
        kind: "connect",
        method: "CONNECT",
        host: rawTarget.slice(0, 200),
        port: 0,
        path: null,
        verdict: "deny",
        rule: "invalid-request",
        reason,
        status: 400,
      });
      return;
    }

    const decision = this.gate.decide({ host: parsed.host, port: parsed.port });
    const host = decision.host ?? parsed.host;
    const port = parsed.port;
    const entry: AuditEntry = {
      time,
      kind: "connect",
      method: "CONNECT",
      host,
      port,
      path: null,
      verdict: decision.verdict,
      rule: decision.rule,
      reason: decision.reason,
    };
    if (decision.verdict !== "allow") {
      refuseTunnel(entry, decision);
      return;
    }
    const finding = hostFinding(this.gate, host);
    if (finding !== null) {
      refuseTunnel(entry, finding);
      return;
    }
    if (this.tunnels >= this.gate.limits.maxTunnels) {
      refuseTunnel(
        entry,
        {
          verdict: "deny",
          rule: "too-many-tunnels",
          reason: `the bottle already has ${this.gate.limits.maxTunnels} tunnels open; close some and retry`,
        },
        503,
      );
      return;
    }
    this.tunnels += 1;
    client.once("close", () => {
      this.tunnels -= 1;
    });
    client.setTimeout(this.gate.limits.idleTimeoutMs, () => client.destroy());

    const picked = await resolveUpstream(host, decision.match, this.gate.resolve, this.gate.ranges);
    if (!picked.ok) {
      refuseTunnel(
        entry,
        { verdict: "deny", rule: picked.rule, reason: picked.reason },
        refusalStatus(picked),
      );
      return;
    }
    if (client.destroyed) return;
    const withAddress = { ...entry, address: picked.address };
    if (decision.match?.tls === "passthrough") {
      // A pass-through tunnel is what a once rule lets out: spent now that every check passed.
      if (!this.gate.spend(decision.match)) {
        refuseTunnel(withAddress, ONCE_SPENT);
        return;
      }
      passThrough(this.gate, client, head, withAddress, started);
      return;
    }
    const record: TunnelRecord = {};
    client.once("close", () => {
      this.gate.audit({
        ...withAddress,
        ...(record.denied === undefined ? {} : { verdict: "deny", ...record.denied }),
        status: 200,
        bytes_up: client.bytesRead,
        bytes_down: client.bytesWritten,
        duration_ms: Date.now() - started,
        ...(record.error === undefined ? {} : { error: record.error }),
      });
    });
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    this.interception.accept(client, head, {
      host,
      port,
      address: picked.address,
      rule: decision.match,
      record,
    });
  }
}
