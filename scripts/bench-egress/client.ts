/**
 * The measuring client of `bench:egress`. SELF-CONTAINED (node: modules only): the same file runs
 * on the host and, copied in, inside a bottle. Usage: `node client.js '<json Job>'`; prints one
 * JSON `Sample` line.
 *
 * It speaks HTTP/1.1 itself (a request line and Host, the response framed by Content-Length), so
 * its own cost is small and the same for every path measured:
 * - big: one tunnel, `GET /big`, bytes counted to the end: MiB/s.
 * - fresh: for each request, a new TCP connection to the proxy, `CONNECT`, TLS, `GET /small`,
 *   close: the time of each, in ms.
 * - kept: one tunnel and TLS session, then sequential `GET /small`: the time of each, in ms.
 * Without a proxy the same requests go straight to the upstream (the reference).
 */
import fs from "node:fs";
import net from "node:net";
import { pathToFileURL } from "node:url";
import tls from "node:tls";

export interface Job {
  /** The proxy: TCP `{host, port}` or a unix socket `{path}`; null for direct. */
  proxy: { host: string; port: number } | { path: string } | null;
  /** Where the tunnel goes (CONNECT target and TLS name). */
  target: { host: string; port: number };
  /** Where a direct connection goes (defaults to the target). */
  direct?: { host: string; port: number };
  /** PEM files trusted for the upstream (or the proxy's interception CA). */
  caFiles: string[];
  bigBytes: number;
  bigRuns: number;
  fresh: number;
  kept: number;
}

export interface Sample {
  /** MiB/s of each big download. */
  big: number[];
  /** ms per request on a fresh tunnel. */
  fresh: number[];
  /** ms per request in one kept-alive tunnel. */
  kept: number[];
}

const now = (): number => performance.now();

function rawConnect(job: Job): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const proxy = job.proxy;
    const direct = job.direct ?? job.target;
    const socket =
      proxy === null
        ? net.connect(direct.port, direct.host)
        : "path" in proxy
          ? net.connect(proxy.path)
          : net.connect(proxy.port, proxy.host);
    socket.setNoDelay(true);
    socket.once("error", reject);
    socket.once("connect", () => {
      if (proxy === null) {
        socket.off("error", reject);
        resolve(socket);
        return;
      }
      const authority = `${job.target.host}:${job.target.port}`;
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        socket.off("error", reject);
        const line = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
        if (!/^HTTP\/1\.[01] 200/.test(line)) {
          socket.destroy();
          reject(new Error(`CONNECT refused: ${line}`));
          return;
        }
        socket.pause();
        if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
        resolve(socket);
      };
      socket.on("data", onData);
    });
  });
}

function secure(job: Job, raw: net.Socket, context: tls.SecureContext): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const isIp = net.isIP(job.target.host) !== 0;
    const socket = tls.connect({
      socket: raw,
      secureContext: context,
      host: job.target.host,
      ...(isIp ? {} : { servername: job.target.host }),
      ALPNProtocols: ["http/1.1"],
    });
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
  });
}

/** One request on an open connection; resolves with the body length once it is all read. */
function request(socket: tls.TLSSocket, job: Job, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head: Buffer | null = Buffer.alloc(0);
    let expected = -1;
    let received = 0;
    const done = (error?: Error): void => {
      socket.off("data", onData);
      socket.off("error", done);
      socket.off("close", onClose);
      if (error === undefined) resolve(received);
      else reject(error);
    };
    const onClose = (): void => {
      done(new Error(`connection closed after ${received} of ${expected} bytes`));
    };
    const onData = (chunk: Buffer): void => {
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end === -1) return;
        const text = head.subarray(0, end).toString("latin1");
        if (!/^HTTP\/1\.1 200/.test(text)) {
          done(new Error(`upstream answered: ${text.split("\r\n")[0] ?? ""}`));
          return;
        }
        expected = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? "-1");
        received = head.length - end - 4;
        head = null;
      } else received += chunk.length;
      if (expected >= 0 && received >= expected) done();
    };
    socket.on("data", onData);
    socket.once("error", done);
    socket.once("close", onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader(job)}\r\n\r\n`);
  });
}

function hostHeader(job: Job): string {
  const host = job.target.host.includes(":") ? `[${job.target.host}]` : job.target.host;
  return job.target.port === 443 ? host : `${host}:${job.target.port}`;
}

async function open(job: Job, context: tls.SecureContext): Promise<tls.TLSSocket> {
  const raw = await rawConnect(job);
  return secure(job, raw, context);
}

export async function runJob(job: Job): Promise<Sample> {
  // One context for every connection (a fresh tunnel is a fresh session: none is resumed).
  const ca = tls.createSecureContext({
    ca: job.caFiles.map((file) => fs.readFileSync(file, "utf8")),
  });
  const sample: Sample = { big: [], fresh: [], kept: [] };
  for (let i = 0; i < job.bigRuns; i += 1) {
    const socket = await open(job, ca);
    const started = now();
    const bytes = await request(socket, job, `/big?bytes=${job.bigBytes}`);
    sample.big.push(bytes / (1024 * 1024) / ((now() - started) / 1000));
    socket.destroy();
  }
  for (let i = 0; i < job.fresh; i += 1) {
    const started = now();
    const socket = await open(job, ca);
    await request(socket, job, "/small");
    sample.fresh.push(now() - started);
    socket.destroy();
  }
  if (job.kept > 0) {
    const socket = await open(job, ca);
    await request(socket, job, "/small");
    for (let i = 0; i < job.kept; i += 1) {
      const started = now();
      await request(socket, job, "/small");
      sample.kept.push(now() - started);
    }
    socket.destroy();
  }
  return sample;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  runJob(JSON.parse(process.argv[2] ?? "{}") as Job).then(
    (sample) => {
      process.stdout.write(`${JSON.stringify(sample)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
