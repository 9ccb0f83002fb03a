/**
 * Replays one egress case through a running proxy, as an agent would send it: a plain request for
 * an http:// URL, a CONNECT tunnel with TLS (trusting the bottle's CA) for https://, and for
 * WebSocket cases an upgrade inside the tunnel followed by the case's frames.
 *
 * The verdict is what the agent saw: `block` when the gate refused (a 4xx/5xx carrying
 * `X-Bot-Bottle-Denied`, a refused CONNECT, or a WebSocket closed before the upstream received
 * every frame), `allow` when the request reached the upstream and its answer came back.
 */
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { LocalUpstream } from "./local-upstream.js";

/** One frame as a case writes it: every field of the corpus schema's frames is replayed. */
export interface CorpusFrame {
  /** A name, or the opcode's number (reserved ones included). */
  opcode: "text" | "binary" | "continuation" | "close" | "ping" | "pong" | number;
  payload: string;
  encoding?: "base64" | "hex";
  /** False for a fragment followed by continuation frames; default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A close frame's status code, written before its payload. */
  close_code?: number;
}

const OPCODES = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

function opcodeOf(frame: CorpusFrame): number {
  return typeof frame.opcode === "number" ? frame.opcode & 0x0f : OPCODES[frame.opcode];
}

export interface CorpusCase {
  id: string;
  category: string;
  expected_verdict: "block" | "allow";
  transport: string;
  payload: {
    method?: string;
    url: string;
    headers?: Record<string, string>;
    body?: string;
    content_type?: string;
    frames?: CorpusFrame[];
  };
  /** Set-up the case asks for: hosts to deny (a blocklist the case says to configure). */
  setup?: { deny?: string[]; blocklist?: string[] };
}

export type Verdict = "block" | "allow";

const TIMEOUT_MS = 10_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`timed out: ${what}`));
    }, TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function verdictOf(status: number, headers: http.IncomingHttpHeaders): Verdict {
  return status >= 400 && headers["x-bot-bottle-denied"] !== undefined ? "block" : "allow";
}

/** CONNECT through the proxy; null when the proxy refused the tunnel. */
function openTunnel(proxyPort: number, authority: string): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, "127.0.0.1");
    socket.once("error", reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      if (head.startsWith("HTTP/1.1 200")) resolve(socket);
      else {
        socket.destroy();
        resolve(null);
      }
    };
    socket.on("data", onData);
  });
}

function secureOver(socket: net.Socket, host: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const servername = net.isIP(host.replace(/^\[|\]$/g, "")) === 0 ? host : undefined;
    const secure = tls.connect({ socket, ca, ...(servername === undefined ? {} : { servername }) });
    secure.once("secureConnect", () => {
      resolve(secure);
    });
    secure.once("error", reject);
  });
}

function authorityOf(url: URL): string {
  return `${url.hostname}:${url.port === "" ? (url.protocol === "https:" ? "443" : "80") : url.port}`;
}

function requestHeaders(c: CorpusCase, url: URL): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = { host: url.host, ...(c.payload.headers ?? {}) };
  if (c.payload.content_type !== undefined) headers["content-type"] = c.payload.content_type;
  if (c.payload.body !== undefined) headers["content-length"] = Buffer.byteLength(c.payload.body);
  return headers;
}

function send(
  options: http.RequestOptions,
  body: string | undefined,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      res.resume();
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function replayHttp(c: CorpusCase, proxyPort: number, ca: string): Promise<Verdict> {
  const url = new URL(c.payload.url);
  const method = c.payload.method ?? "GET";
  const headers = requestHeaders(c, url);
  if (url.protocol === "http:") {
    const answer = await send(
      { host: "127.0.0.1", port: proxyPort, method, path: url.href, headers, agent: false },
      c.payload.body,
    );
    return verdictOf(answer.status, answer.headers);
  }
  const tunnel = await openTunnel(proxyPort, authorityOf(url));
  if (tunnel === null) return "block";
  const secure = await secureOver(tunnel, url.hostname, ca).catch(() => null);
  if (secure === null) return "block";
  const answer = await send(
    {
      method,
      path: `${url.pathname}${url.search}`,
      headers,
      createConnection: () => secure,
    },
    c.payload.body,
  );
  secure.destroy();
  return verdictOf(answer.status, answer.headers);
}

function maskedFrame(frame: CorpusFrame): Buffer {
  const body =
    frame.encoding === "base64"
      ? Buffer.from(frame.payload, "base64")
      : frame.encoding === "hex"
        ? Buffer.from(frame.payload, "hex")
        : Buffer.from(frame.payload, "utf8");
  const code = Buffer.alloc(frame.close_code === undefined ? 0 : 2);
  if (frame.close_code !== undefined) code.writeUInt16BE(frame.close_code, 0);
  const payload = Buffer.concat([code, body]);
  const first =
    (frame.fin === false ? 0 : 0x80) |
    (frame.rsv1 === true ? 0x40 : 0) |
    (frame.rsv2 === true ? 0x20 : 0) |
    (frame.rsv3 === true ? 0x10 : 0) |
    opcodeOf(frame);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  let length: Buffer;
  if (payload.length < 126) length = Buffer.from([0x80 | payload.length]);
  else if (payload.length < 65536)
    length = Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  else {
    length = Buffer.alloc(9);
    length[0] = 0x80 | 127;
    length.writeBigUInt64BE(BigInt(payload.length), 1);
  }
  return Buffer.concat([Buffer.from([first]), length, mask, masked]);
}

async function replayWebSocket(
  c: CorpusCase,
  proxyPort: number,
  ca: string,
  upstream: LocalUpstream,
): Promise<Verdict> {
  const url = new URL(c.payload.url.replace(/^ws/, "http"));
  const frames = c.payload.frames ?? [];
  // The upstream counts every frame (control frames too): all must arrive for an allow.
  const expected = frames.length;
  const tunnel = await openTunnel(proxyPort, authorityOf(url));
  if (tunnel === null) return "block";
  const socket = url.protocol === "https:" ? await secureOver(tunnel, url.hostname, ca) : tunnel;
  const marker = `${url.pathname}?case=${c.id}`;
  const head = await new Promise<string>((resolve) => {
    let text = "";
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (text.includes("\r\n\r\n")) resolve(text);
    });
    socket.once("close", () => {
      resolve(text);
    });
    socket.write(
      `GET ${marker} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  if (!head.startsWith("HTTP/1.1 101")) return "block";
  for (const frame of frames) socket.write(maskedFrame(frame));
  // Wait until the upstream has every frame, or the gate has closed the connection.
  const closed = new Promise<void>((resolve) => socket.once("close", resolve));
  const received = (): number => {
    for (const [id, count] of upstream.frames) if (id.startsWith(`${marker}#`)) return count;
    return 0;
  };
  const state = { gone: false };
  void closed.then(() => {
    state.gone = true;
  });
  const deadline = Date.now() + 3_000;
  while (received() < expected && !state.gone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  socket.destroy();
  return received() >= expected ? "allow" : "block";
}

export function replayCase(
  c: CorpusCase,
  proxyPort: number,
  ca: string,
  upstream: LocalUpstream,
): Promise<Verdict> {
  const run =
    c.transport === "websocket"
      ? replayWebSocket(c, proxyPort, ca, upstream)
      : replayHttp(c, proxyPort, ca);
  return withTimeout(run, c.id);
}
