/**
 * Connections to upstreams at their pinned address. TLS to an upstream is verified against the
 * host name that was judged (or the IP literal), with Node's roots or the gate's `upstreamCa`.
 * `PinnedAgent` is an http.Agent whose every connection goes to one target: inside an
 * intercepted tunnel it keeps upstream connections alive across the agent's requests.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";

export function connectUpstream(gate: EgressGate, target: UpstreamTarget): net.Socket {
  const raw = gate.dial(target.address, target.port);
  gate.track(raw);
  if (!target.secure) return raw;
  const isLiteral = net.isIP(target.host) !== 0;
  const secure = tls.connect({
    socket: raw,
    host: target.host,
    ...(isLiteral ? {} : { servername: target.host }),
    ...(gate.upstreamCa === undefined ? {} : { ca: gate.upstreamCa }),
    ALPNProtocols: ["http/1.1"],
  });
  gate.track(secure);
  return secure;
}

export class PinnedAgent extends http.Agent {
  constructor(
    private readonly gate: EgressGate,
    private readonly target: UpstreamTarget,
    keepAlive: boolean,
  ) {
    super({ keepAlive, maxSockets: 16 });
  }

  override createConnection(): net.Socket {
    return connectUpstream(this.gate, this.target);
  }
}
