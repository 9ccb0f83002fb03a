/**
 * Where a gate listens: a unix socket in the bottle's socket folder (a stale socket replaced, a
 * non-socket file refused, then mode 0666, since the agent runs as another user and the folder is
 * its only access), or TCP for tests.
 */
import fs from "node:fs";
import type net from "node:net";

export type ListenTarget = { path: string } | { host: string; port: number };

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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in target) server.listen(target.path, done);
    else server.listen(target.port, target.host, done);
  });
  if ("path" in target) fs.chmodSync(target.path, 0o666);
}

/** The bound TCP port (for tests). Throws when not listening on TCP. */
export function boundPort(server: net.Server, what: string): number {
  const bound = server.address();
  if (bound === null || typeof bound === "string")
    throw new Error(`${what} is not listening on TCP`);
  return bound.port;
}
