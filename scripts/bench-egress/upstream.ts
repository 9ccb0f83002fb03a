/**
 * The local HTTPS upstream of `bench:egress`. SELF-CONTAINED (node: modules only): it runs on the
 * host and, copied in, in a container on a bottle's network. Usage:
 * `node upstream.js PORT HOST '<json [{name, key, cert}]>'` (key and cert are PEM file paths; the
 * first entry serves connections without SNI). Prints `listening PORT` when ready.
 *
 * `GET /big?bytes=N` answers N bytes (Content-Length, written in 256 KiB chunks with back
 * pressure); anything else answers `ok` (2 bytes). Connections are kept alive.
 */
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { pathToFileURL } from "node:url";

interface Leaf {
  name: string;
  key: string;
  cert: string;
}

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

function serveBig(res: http.ServerResponse, bytes: number): void {
  res.writeHead(200, {
    "content-length": String(bytes),
    "content-type": "application/octet-stream",
  });
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const part = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

export async function startBenchUpstream(port: number, host: string, leaves: Leaf[]) {
  const contexts = new Map(
    leaves.map((leaf) => [
      leaf.name,
      tls.createSecureContext({
        key: fs.readFileSync(leaf.key, "utf8"),
        cert: fs.readFileSync(leaf.cert, "utf8"),
      }),
    ]),
  );
  const [first] = leaves;
  if (first === undefined) throw new Error("upstream: no certificate given");
  const server = https.createServer(
    {
      key: fs.readFileSync(first.key, "utf8"),
      cert: fs.readFileSync(first.cert, "utf8"),
      keepAlive: true,
      keepAliveTimeout: 120_000,
      SNICallback: (name, done) => {
        done(null, contexts.get(name) ?? contexts.get(first.name));
      },
    },
    (req, res) => {
      req.resume();
      const url = new URL(req.url ?? "/", "https://upstream");
      if (url.pathname === "/big") {
        serveBig(res, Number(url.searchParams.get("bytes") ?? "0"));
        return;
      }
      res.writeHead(200, { "content-length": "2", "content-type": "text/plain" });
      res.end("ok");
    },
  );
  server.on("connection", (socket: net.Socket) => {
    socket.setNoDelay(true);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : port };
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const [port, host, leaves] = process.argv.slice(2);
  startBenchUpstream(Number(port ?? "0"), host ?? "127.0.0.1", JSON.parse(leaves ?? "[]") as Leaf[])
    .then(({ port: bound }) => {
      process.stdout.write(`listening ${bound}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
