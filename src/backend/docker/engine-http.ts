/**
 * The Docker Engine API's transport: HTTP over the engine's unix socket (DOCKER_HOST `unix://`,
 * else /var/run/docker.sock) or TCP (`tcp://`, TLS when DOCKER_TLS_VERIFY and DOCKER_CERT_PATH say
 * so, as the docker CLI reads them), with node:http alone. It replaced dockerode, whose import
 * (docker-modem, ssh2, the gRPC BuildKit session) cost 0.25-0.9 s of every command's start.
 *
 * An answer of 400 or above rejects with EngineError (statusCode, the engine's own message).
 * Request bodies are JSON or a stream (tar); answers are read whole (JSON) or handed over as the
 * response stream (logs, archives, builds, exec output). Never logs anything.
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import type { Readable } from "node:stream";
import { BottleError } from "../../core/errors.js";

/** The engine refused a request: `statusCode` as it answered (404: no such object). */
export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export interface EngineEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
}

/** Where the engine listens, from DOCKER_HOST (and the TLS variables for tcp). */
export function engineEndpoint(env: Readonly<Record<string, string | undefined>>): EngineEndpoint {
  const host = env["DOCKER_HOST"] ?? "";
  if (host === "") return { socketPath: "/var/run/docker.sock" };
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const tcp = /^tcp:\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (tcp?.[1] !== undefined) {
    const verify = (env["DOCKER_TLS_VERIFY"] ?? "") !== "";
    const certs = env["DOCKER_CERT_PATH"] ?? "";
    const tls =
      verify && certs !== ""
        ? {
            ca: fs.readFileSync(path.join(certs, "ca.pem")),
            cert: fs.readFileSync(path.join(certs, "cert.pem")),
            key: fs.readFileSync(path.join(certs, "key.pem")),
          }
        : undefined;
    return {
      host: tcp[1],
      port: Number(tcp[2] ?? (tls === undefined ? 2375 : 2376)),
      ...(tls === undefined ? {} : { tls }),
    };
  }
  throw new BottleError("engine_unreachable", `DOCKER_HOST=${host} is not supported.`, {
    hint: "Use a unix:// socket or a tcp:// address (TLS through DOCKER_TLS_VERIFY and DOCKER_CERT_PATH); for ssh://, forward the engine's socket (ssh -L) and point DOCKER_HOST at it.",
  });
}

export type Query = Record<string, string | number | boolean | object | undefined>;

export type Body = { json: unknown } | { stream: NodeJS.ReadableStream } | undefined;

function queryString(query: Query): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** One engine connection point; requests share kept-alive connections (idle ones never hold the process). */
export class EngineHttp {
  private readonly agent: http.Agent;

  constructor(private readonly endpoint: EngineEndpoint) {
    this.agent =
      endpoint.tls === undefined
        ? new http.Agent({ keepAlive: true })
        : new https.Agent({ keepAlive: true, ...endpoint.tls });
  }

  /** Sends a request; resolves with the answer's stream once its status is below 400. */
  async open(
    method: string,
    urlPath: string,
    query: Query = {},
    body?: Body,
  ): Promise<http.IncomingMessage> {
    const json =
      body !== undefined && "json" in body ? Buffer.from(JSON.stringify(body.json)) : undefined;
    const headers: Record<string, string | number> = {};
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = json.length;
    } else if (body !== undefined) headers["content-type"] = "application/x-tar";
    const options: http.RequestOptions = {
      method,
      path: `${urlPath}${queryString(query)}`,
      headers,
      agent: this.agent,
      ...(this.endpoint.socketPath === undefined
        ? { host: this.endpoint.host, port: this.endpoint.port }
        : { socketPath: this.endpoint.socketPath }),
    };
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = (this.endpoint.tls === undefined ? http : https).request(options, resolve);
      request.on("error", reject);
      if (body !== undefined && "stream" in body) {
        body.stream.on("error", (error: Error) => request.destroy(error));
        body.stream.pipe(request);
      } else request.end(json);
    });
    const status = response.statusCode ?? 0;
    if (status < 400) return response;
    const text = (await readAll(response)).toString("utf8");
    let message = text.trim();
    try {
      const parsed = (JSON.parse(text) as { message?: unknown }).message;
      if (typeof parsed === "string") message = parsed;
    } catch {
      // Not JSON: the text as it came.
    }
    throw new EngineError(status, `(HTTP code ${status}) ${method} ${urlPath}: ${message}`);
  }

  /** Sends a request and reads its whole answer: parsed JSON, or undefined when empty. */
  async call<T = unknown>(method: string, urlPath: string, query?: Query, body?: Body): Promise<T> {
    const text = (await readAll(await this.open(method, urlPath, query, body))).toString("utf8");
    return (text.trim() === "" ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request and reads its whole answer as bytes. */
  async bytes(method: string, urlPath: string, query?: Query): Promise<Buffer> {
    return readAll(await this.open(method, urlPath, query));
  }
}

/**
 * Splits the engine's multiplexed output (8-byte frame headers: stream 1 stdout, 2 stderr, then a
 * big-endian length) into `stdout` and `stderr` as it arrives.
 */
export function demuxStream(
  source: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): void {
  let pending: Buffer = Buffer.alloc(0);
  source.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      (pending[0] === 2 ? stderr : stdout).write(pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  });
}

/** The payload of a whole multiplexed answer (non-follow logs), stdout and stderr together. */
export function demuxBuffer(buffer: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts);
}

/** Reads a stream of JSON objects (a build's progress), calling `each` as they come; all of them at the end. */
export async function readJsonLines<T>(stream: Readable, each: (event: T) => void): Promise<T[]> {
  const events: T[] = [];
  let pending = "";
  stream.setEncoding("utf8");
  const take = (line: string): void => {
    if (line.trim() === "") return;
    const event = JSON.parse(line) as T;
    events.push(event);
    each(event);
  };
  for await (const chunk of stream) {
    pending += chunk as string;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    lines.forEach(take);
  }
  take(pending);
  return events;
}
