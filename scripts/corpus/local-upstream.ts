/**
 * A local upstream for replaying egress cases: one HTTPS server (a certificate for any name, from
 * its own CA) and one HTTP server on 127.0.0.1, both answering 200 to any request and accepting
 * WebSocket upgrades, counting the frames they receive (control frames too). Nothing leaves the machine.
 */
import crypto from "node:crypto";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { WebSocketFrameReader } from "../../src/sidecar/egress/websocket-frames.js";
import { acceptKey, sniCallback } from "../../test/helpers/egress-harness.js";

export interface LocalUpstream {
  httpsPort: number;
  httpPort: number;
  /** Requests answered (method and URL), in order. */
  requests: string[];
  /** Frames received per WebSocket connection, by the connection's URL. */
  frames: Map<string, number>;
  close(): Promise<void>;
}

export async function startLocalUpstream(ca: BottleCa): Promise<LocalUpstream> {
  const leaves = new LeafCertificates(ca);
  const requests: string[] = [];
  const frames = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    req.on("end", () => {
      requests.push(`${req.method ?? ""} ${req.url ?? ""}`);
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    });
  };
  const upgrade = (req: http.IncomingMessage, socket: net.Socket): void => {
    socket.on("error", () => undefined);
    const id = `${req.url ?? ""}#${crypto.randomUUID()}`;
    frames.set(id, 0);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(req.headers["sec-websocket-key"] ?? "")}\r\n\r\n`,
    );
    const reader = new WebSocketFrameReader(1024 * 1024);
    socket.on("data", (chunk: Buffer) => {
      const read = reader.push(chunk);
      if (!read.ok) {
        socket.destroy();
        return;
      }
      frames.set(id, (frames.get(id) ?? 0) + read.frames.length);
    });
  };
  const secure = https.createServer(
    {
      SNICallback: sniCallback(leaves),
    },
    answer,
  );
  const plain = http.createServer(answer);
  for (const server of [secure, plain]) {
    server.on("upgrade", upgrade);
    server.on("connection", (socket: net.Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  }
  const portOf = (server: http.Server): number => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    return address.port;
  };
  return {
    httpsPort: portOf(secure),
    httpPort: portOf(plain),
    requests,
    frames,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        [secure, plain].map((server) => new Promise((resolve) => server.close(resolve))),
      );
    },
  };
}
