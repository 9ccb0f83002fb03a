/**
 * Kept-alive upstream connections of the credential proxy, one pool (an http.Agent) per route:
 * a model call reuses the TCP and TLS connection of the call before it instead of opening new ones
 * (about a round trip and a handshake saved per call).
 *
 * Safety: a route's pool is used for that route's requests only, so a connection never carries
 * another route's credentials, even when two routes share an upstream. Upstream TLS is verified as
 * before (Node's roots, or the proxy's `upstreamCa`, and the host name) when a connection is made;
 * a reused one is the same verified connection. An idle connection is closed after IDLE_MS, or
 * sooner when the upstream's `Keep-Alive: timeout=` says so (Node's agent reads it); a request
 * that meets a connection the upstream closed meanwhile is retried once on a new one by the caller
 * (`shouldRetry`). destroy() closes them all (the proxy's stop()).
 */
import http from "node:http";
import https from "node:https";

/** An idle kept-alive connection is closed after this long. */
export const IDLE_MS = 30_000;
/** Idle connections kept per route and upstream. */
const MAX_FREE = 8;

export class RouteAgents {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly upstreamCa: string[] | undefined) {}

  /** The pool of `route` (by name) for `url`'s scheme. */
  agentFor(route: string, url: URL): http.Agent {
    const secure = url.protocol === "https:";
    const key = `${route}\n${secure ? "https" : "http"}`;
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const options = { keepAlive: true, timeout: IDLE_MS, maxFreeSockets: MAX_FREE };
      agent = secure
        ? new https.Agent({
            ...options,
            ...(this.upstreamCa === undefined ? {} : { ca: this.upstreamCa }),
          })
        : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Closes every connection, idle or not. */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/**
 * True when a request failed only because the kept-alive connection it was sent on had been
 * closed by the upstream (reset or closed before any answer): sending it again on a new
 * connection is safe, since the upstream never read it.
 */
export function shouldRetry(
  request: http.ClientRequest,
  error: unknown,
  answered: boolean,
): boolean {
  if (!request.reusedSocket || answered) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || code === "EPIPE";
}
