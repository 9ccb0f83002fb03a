/**
 * Connections to upstreams at their pinned address. TLS to an upstream is verified against the
 * host name that was judged (or the IP literal), with Node's roots or the gate's `upstreamCa`.
 * `PinnedAgent` is an http.Agent whose every connection goes to one target: inside an
 * intercepted tunnel it keeps upstream connections alive across the agent's requests.
 *
 * Speed, with the same checks:
 * - `UpstreamTls` builds the trusted roots into one TLS context, once per gate, on first use
 *   (building it parses every root: over 100 ms on a busy machine, formerly paid on every
 *   upstream connection), and keeps the last TLS session of each (address, port, name) so the
 *   next connection resumes it. A resumed session is one the same roots verified for the same
 *   name; the name is checked again on every connection.
 * - `PinnedAgent.warm()` opens the first upstream connection (TCP and TLS) at once, so it runs
 *   while the agent's own handshake with the gate runs; the first request takes it. When an idle
 *   kept-alive connection to the same target is there (upstream-pool.ts), none is opened.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";

/** Sessions kept (one per address, port and name); the oldest is dropped beyond this. */
const MAX_SESSIONS = 256;

export class UpstreamTls {
  private context: tls.SecureContext | undefined;
  private readonly sessions = new Map<string, Buffer>();

  /** `ca`: trusted roots (PEM) instead of Node's defaults. */
  constructor(private readonly ca: string[] | undefined) {}

  /** The shared context (made on first use). */
  secureContext(): tls.SecureContext {
    this.context ??= tls.createSecureContext(this.ca === undefined ? {} : { ca: this.ca });
    return this.context;
  }

  session(key: string): Buffer | undefined {
    return this.sessions.get(key);
  }

  keepSession(key: string, session: Buffer): void {
    this.sessions.delete(key);
    this.sessions.set(key, session);
    if (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
  }
}

export function connectUpstream(gate: EgressGate, target: UpstreamTarget): net.Socket {
  const raw = gate.dial(target.address, target.port);
  raw.setNoDelay(true);
  gate.track(raw);
  if (!target.secure) return raw;
  const isLiteral = net.isIP(target.host) !== 0;
  const key = `${target.address}|${target.port}|${target.host}`;
  const session = gate.upstreamTls.session(key);
  const secure = tls.connect({
    socket: raw,
    host: target.host,
    ...(isLiteral ? {} : { servername: target.host }),
    secureContext: gate.upstreamTls.secureContext(),
    ...(session === undefined ? {} : { session }),
    ALPNProtocols: ["http/1.1"],
  });
  secure.on("session", (next: Buffer) => {
    gate.upstreamTls.keepSession(key, next);
  });
  gate.track(secure);
  return secure;
}

/** An idle kept-alive upstream connection (or unused warm one) is closed after this long. */
export const UPSTREAM_IDLE_MS = 15_000;

export class PinnedAgent extends http.Agent {
  /** A connection opened ahead of the first request (warm()), not yet handed out. */
  private spare: net.Socket | undefined;
  private readonly closeIdleSpare = (): void => {
    this.spare?.destroy();
    this.spare = undefined;
  };

  /**
   * `keepAlive`: connections serve later requests. `shared`: the agent serves every tunnel to
   * its target (upstream-pool.ts), so it takes as many connections as they need and keeps a few
   * idle ones, closed after UPSTREAM_IDLE_MS (sooner when the upstream's Keep-Alive says so).
   */
  constructor(
    private readonly gate: EgressGate,
    private readonly target: UpstreamTarget,
    keepAlive: boolean,
    shared = false,
  ) {
    super(
      shared
        ? { keepAlive, maxSockets: Infinity, maxFreeSockets: 8, timeout: UPSTREAM_IDLE_MS }
        : { keepAlive, maxSockets: 16 },
    );
  }

  /** Opens a connection now, for the next request to take, unless an idle one is there. */
  warm(): void {
    if (this.spare !== undefined || this.hasIdle()) return;
    const spare = connectUpstream(this.gate, this.target);
    spare.setTimeout(UPSTREAM_IDLE_MS);
    spare.once("timeout", this.closeIdleSpare);
    this.spare = spare;
  }

  private hasIdle(): boolean {
    return Object.values(this.freeSockets).some((idle) => (idle?.length ?? 0) > 0);
  }

  override createConnection(): net.Socket {
    const spare = this.spare;
    this.spare = undefined;
    if (spare !== undefined && !spare.destroyed) {
      spare.off("timeout", this.closeIdleSpare);
      spare.setTimeout(0);
      return spare;
    }
    return connectUpstream(this.gate, this.target);
  }

  override destroy(): void {
    this.spare?.destroy();
    this.spare = undefined;
    super.destroy();
  }
}
