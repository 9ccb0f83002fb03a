/**
 * Upstream connections shared by the intercepted tunnels to one target: the judged host name, the
 * pinned address it was checked at, the port, and TLS or not. A new tunnel to a host the bottle
 * reached a moment ago takes an idle connection of the tunnel before instead of opening TCP and
 * TLS again (the largest share of a fresh intercepted tunnel's cost at the gate).
 *
 * Safety: the key holds every property the connection was made for, so a connection is never
 * shared across different judged hosts, addresses or ports (two names at one address get two
 * pools, each verified for its own name). Every request on a pooled connection is judged and
 * content-checked like any other before a byte of it goes up. Pools are dropped oldest first
 * beyond MAX_POOLS (their connections close when idle: PinnedAgent's timeout); stop() closes all.
 */
import type { EgressGate, UpstreamTarget } from "./egress-gate.js";
import { PinnedAgent } from "./upstream-connection.js";

/** Targets with a pool at once. */
const MAX_POOLS = 64;

export class UpstreamPools {
  private readonly pools = new Map<string, PinnedAgent>();

  constructor(private readonly gate: EgressGate) {}

  /** The shared agent of `target`'s pool (made on first use). */
  agentFor(target: UpstreamTarget): PinnedAgent {
    const key = JSON.stringify([target.host, target.address, target.port, target.secure]);
    const known = this.pools.get(key);
    if (known !== undefined) {
      this.pools.delete(key);
      this.pools.set(key, known);
      return known;
    }
    const agent = new PinnedAgent(this.gate, target, true, true);
    this.pools.set(key, agent);
    if (this.pools.size > MAX_POOLS) {
      // Dropped, not destroyed: tunnels still using it keep their connections.
      const oldest = this.pools.keys().next().value;
      if (oldest !== undefined) this.pools.delete(oldest);
    }
    return agent;
  }

  /** Closes every pooled connection. */
  destroy(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }
}
