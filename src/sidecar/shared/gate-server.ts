/**
 * The one server shape of every gate in the sidecar (egress, credentials, git, supervise) and of
 * its control API: an http.Server whose connections are tracked, that listens through
 * listenGate (stale socket replaced, anything else in the way refused, the guard in front), and
 * whose stop() closes every open connection, so no client, upstream or tunnel outlives it.
 *
 * A gate is then: a listen target, a pure judge, a handler, and an audit sink made safe with
 * guardedSink (a sink that throws never takes the gate down).
 */
import type http from "node:http";
import type net from "node:net";
import type { ListenTarget } from "./gate-listen.js";
import { boundPort, listenGate } from "./gate-listen.js";

function ignore(): void {
  // Socket and accept errors (EMFILE and the like) end in 'close' or are retried by the client;
  // an unhandled 'error' would crash the sidecar.
}

export class GateServer {
  private readonly sockets = new Set<net.Socket>();

  /** `name` is used in messages ("the egress proxy is not listening on TCP"). */
  constructor(
    readonly server: http.Server,
    private readonly name: string,
  ) {
    server.on("connection", (socket: net.Socket) => {
      this.track(socket);
    });
    server.on("error", ignore);
  }

  /**
   * Tracks a socket until it closes: stop() destroys it. Client connections are tracked on
   * arrival; a gate tracks the upstream sockets it opens, and a client socket it takes over
   * (CONNECT, upgrade), the same way.
   */
  track(socket: net.Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.on("error", ignore);
    socket.once("close", () => this.sockets.delete(socket));
  }

  /** Open sockets right now (clients, and the upstreams the gate tracks). */
  openSockets(): number {
    return this.sockets.size;
  }

  /** Listens on a unix socket (replacing a stale one, then its mode) or on TCP. */
  listen(target: ListenTarget): Promise<void> {
    return listenGate(this.server, target);
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    return boundPort(this.server, this.name);
  }

  /** Stops accepting and destroys every open socket; resolves when the server has closed. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => {
        resolve();
      });
    });
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** An audit sink that never throws: a failing sink must not take the gate down with it. */
export function guardedSink<Entry>(sink: (entry: Entry) => void): (entry: Entry) => void {
  return (entry) => {
    try {
      sink(entry);
    } catch {
      // Dropped: the gate's answer to the agent does not depend on its audit line.
    }
  };
}
