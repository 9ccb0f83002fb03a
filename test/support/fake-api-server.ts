/**
 * What the scripted model API stand-ins (fake-messages-api.ts, fake-responses-api.ts) share: the
 * recorded request, reading and recording a request before the script answers it, the server's
 * start on HTTP or HTTPS, and the container entry point that prints each request as a JSON line.
 * Node built-ins only: a test container runs it beside the stand-in's own file.
 */
import http from "node:http";
import https from "node:https";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** What every stand-in is started with. */
export interface FakeApiScript {
  /** The real token the credential proxy must send. */
  token: string;
  /** The shell command the model's tool turn runs. */
  command: string;
  /** The text of the model's last turn. */
  final: string;
  tls?: { key: string; cert: string };
}

export interface FakeApiServer {
  server: http.Server;
  port: number;
  requests: RecordedRequest[];
}

/**
 * A handler that reads the whole body (JSON where it parses, else the text; null when empty),
 * records the request, then lets `answer` reply.
 */
export function recordingHandler(
  record: (request: RecordedRequest) => void,
  answer: (req: http.IncomingMessage, res: http.ServerResponse, body: unknown) => void,
): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = text === "" ? null : (JSON.parse(text) as unknown);
      } catch {
        // Recorded as text.
      }
      record({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      answer(req, res, body);
    });
  };
}

/** Serves `handlerFor(record)` on `port` (0: any free one), over HTTPS when `tls` is given. */
export async function startFakeApiServer(
  handlerFor: (record: (request: RecordedRequest) => void) => http.RequestListener,
  tls: { key: string; cert: string } | undefined,
  port: number,
): Promise<FakeApiServer> {
  const requests: RecordedRequest[] = [];
  const handler = handlerFor((r) => requests.push(r));
  const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler);
  await new Promise<void>((resolve) => server.listen(port, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("not listening");
  return { server, port: address.port, requests };
}

/** The script and TLS pair a container passes in its environment (FAKE_API_*, TLS_KEY/CERT). */
export function scriptFromEnv(env: NodeJS.ProcessEnv, defaultCommand: string): FakeApiScript {
  return {
    token: env["FAKE_API_TOKEN"] ?? "",
    command: env["FAKE_API_COMMAND"] ?? defaultCommand,
    final: env["FAKE_API_FINAL"] ?? "done",
    ...(env["TLS_KEY"] !== undefined && env["TLS_CERT"] !== undefined
      ? { tls: { key: env["TLS_KEY"], cert: env["TLS_CERT"] } }
      : {}),
  };
}

/** The container's port (FAKE_API_PORT, 443 unless set). */
export function portFromEnv(env: NodeJS.ProcessEnv): number {
  return Number(env["FAKE_API_PORT"] ?? "443");
}

/** From now on each recorded request is also printed as a JSON line; then `ready` is printed. */
export function printRequests(started: FakeApiServer, ready: string): void {
  const { requests } = started;
  const push = requests.push.bind(requests);
  requests.push = (...items: RecordedRequest[]): number => {
    for (const item of items) process.stdout.write(`${JSON.stringify(item)}\n`);
    return push(...items);
  };
  process.stdout.write(`${ready}\n`);
}
