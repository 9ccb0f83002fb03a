/**
 * Where a gate listens: a unix socket in the bottle's socket folder (a stale socket replaced, a
 * non-socket file refused, then mode 0666, since the agent runs as another user and the folder is
 * its only access; the control API's socket takes 0600), or TCP for tests.
 */
import fs from "node:fs";
import type net from "node:net";

/**
 * Decides, per new connection, whether a gate may serve it. `refusal()` returns the reason to
 * refuse (the connection gets a 503 with that text and is closed before the gate reads a byte of
 * it), or undefined to let it through. The sidecar refuses everything this way until the host
 * has handed over its secrets (fail closed after a restart).
 */
export interface GateGuard {
  refusal(): string | undefined;
}

export type ListenTarget = ({ path: string; mode?: number } | { host: string; port: number }) & {
  guard?: GateGuard;
};

/** Answers 503 with `reason` on a raw connection, then closes it (every gate speaks HTTP). */
function refuse(socket: net.Socket, reason: string): void {
  const body = `${reason}\n`;
  socket.on("error", () => {
    // The client may be gone already; it was refused either way.
  });
  // The request's bytes are read and dropped before the socket closes: a unix socket closed with
  // unread bytes resets its peer, and under gVisor the reset overtook the answer (the agent's curl
  // saw an empty reply about every other time). Closed when the client closes its side, and at
  // most a second after the answer is written: a refused socket never lingers (nor holds stop()).
  socket.resume();
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => {
      const timer = setTimeout(() => socket.destroy(), 1000);
      timer.unref();
      socket.once("close", () => {
        clearTimeout(timer);
      });
    },
  );
}

/** Puts the guard in front of every connection listener the server has (the gate's own). */
function guardConnections(server: net.Server, guard: GateGuard): void {
  const inner = server.listeners("connection") as ((socket: net.Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: net.Socket) => {
    const reason = guard.refusal();
    if (reason !== undefined) {
      refuse(socket, reason);
      return;
    }
    for (const listener of inner) listener.call(server, socket);
  });
}

function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; not removing it`);
  }
  fs.unlinkSync(socketPath);
}

export async function listenGate(server: net.Server, target: ListenTarget): Promise<void> {
  if ("path" in target) removeStaleSocket(target.path);
  if (target.guard !== undefined) guardConnections(server, target.guard);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
  if ("path" in target) fs.chmodSync(target.path, target.mode ?? 0o666);
}

/** The bound TCP port (for tests). Throws when not listening on TCP. */
export function boundPort(server: net.Server, what: string): number {
  const bound = server.address();
  if (bound === null || typeof bound === "string")
    throw new Error(`${what} is not listening on TCP`);
  return bound.port;
}
