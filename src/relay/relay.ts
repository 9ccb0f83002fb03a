/**
 * The relay inside the agent container. The agent has no network, only loopback; each gate of its
 * bottle is a unix socket in a mounted folder. The relay listens on 127.0.0.1:<port> for each gate
 * and pipes every connection to that gate's socket, so ordinary clients (HTTP_PROXY, git, SDK base
 * URLs) reach the gates.
 *
 * SELF-CONTAINED: imports only node: modules. It is copied alone into the agent image as
 * relay.mjs and run as `node relay.mjs PORT=SOCKET [PORT=SOCKET ...]`; it prints
 * `bot-bottle relay ready` once every port listens and runs until SIGTERM or SIGINT (exit 0).
 *
 * Fail closed: if a gate's socket cannot be reached, the client connection is destroyed; the relay
 * never connects anywhere but the given sockets.
 */
import net from "node:net";
import { pathToFileURL } from "node:url";

export interface RelayPair {
  /** Loopback TCP port (0 picks a free one; see `ports`). */
  port: number;
  /** Unix socket of the gate. */
  socket: string;
}

export interface Relay {
  /** The bound ports, in the order of the pairs. */
  ports: number[];
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

export const RELAY_READY_LINE = "bot-bottle relay ready";

function ignore(): void {
  // Errors end in 'close', which tears the pair down.
}

/**
 * The gate-to-client side without a Buffer per read: the gate's socket reads into one reused
 * 64 KiB buffer, each read is written to the client at once, and the buffer is read into again
 * only once the client holds none of it (else the gate socket waits for that write). The same
 * copy as src/sidecar/shared/reused-buffer-copy.ts (which is tested alone), repeated here
 * because this file must stay self-contained.
 */
function reusedBufferCopy(client: net.Socket): {
  onread: net.OnReadOpts;
  attach(gate: net.Socket): void;
} {
  let source: net.Socket | undefined;
  let held = 0;
  let writes = 0;
  const onread: net.OnReadOpts = {
    buffer: Buffer.allocUnsafe(64 * 1024),
    callback: (bytes, buffer) => {
      const write = (writes += 1);
      client.write(buffer.subarray(0, bytes), () => {
        if (held !== write) return;
        held = 0;
        source?.resume();
      });
      if (client.writableLength === 0) return true;
      held = write;
      source?.pause();
      return false;
    },
  };
  const attach = (gate: net.Socket): void => {
    source = gate;
    gate.once("end", () => client.end());
  };
  return { onread, attach };
}

function serve(pair: RelayPair, open: Set<net.Socket>): net.Server {
  // Half-open on both sides: a client that ends its request still gets the whole answer.
  // No Nagle on the loopback side: a small answer is passed on at once, not after an ACK.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const download = reusedBufferCopy(client);
    const gate = net.connect({ path: pair.socket, allowHalfOpen: true, onread: download.onread });
    for (const socket of [client, gate]) {
      open.add(socket);
      socket.on("error", ignore);
      socket.once("close", () => open.delete(socket));
    }
    client.once("close", () => gate.destroy());
    gate.once("close", (hadError) => {
      // A clean end was passed on by pipe; a failed or refused gate cuts the client at once.
      if (hadError) client.destroy();
      else client.end();
    });
    client.pipe(gate);
    download.attach(gate);
  });
  server.on("error", ignore);
  return server;
}

async function listen(server: net.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  return bound !== null && typeof bound === "object" ? bound.port : port;
}

async function closeServer(server: net.Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

/** Listens on 127.0.0.1 for every pair; rejects (closing what was opened) if one cannot listen. */
export async function startRelay(pairs: RelayPair[]): Promise<Relay> {
  const open = new Set<net.Socket>();
  const servers = pairs.map((pair) => serve(pair, open));
  const close = async (): Promise<void> => {
    const closing = servers.map(closeServer);
    for (const socket of open) socket.destroy();
    await Promise.all(closing);
  };
  try {
    const ports = await Promise.all(
      servers.map((server, i) => listen(server, pairs[i]?.port ?? 0)),
    );
    return { ports, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Parses `PORT=SOCKET` arguments; throws a readable error on anything else. */
export function parseRelayArgs(args: string[]): RelayPair[] {
  if (args.length === 0) throw new Error("usage: relay PORT=SOCKET [PORT=SOCKET ...]");
  return args.map((arg) => {
    const match = /^(\d{1,5})=(\/.+)$/.exec(arg);
    const port = Number(match?.[1]);
    const socket = match?.[2];
    if (socket === undefined || port < 1 || port > 65535) {
      throw new Error(
        `relay: expected PORT=SOCKET (a port 1-65535 and an absolute socket path), got ${JSON.stringify(arg)}`,
      );
    }
    return { port, socket };
  });
}

async function main(args: string[]): Promise<void> {
  const relay = await startRelay(parseRelayArgs(args));
  process.stdout.write(`${RELAY_READY_LINE}\n`);
  const stop = (): void => {
    void relay.close().then(() => {
      process.exitCode = 0;
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}
