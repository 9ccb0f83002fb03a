/**
 * `bottle dashboard`'s web server: the page and its JSON API on 127.0.0.1, behind the checks of
 * auth.ts. An object with start()/stop(); it holds the secrets, the traffic feed and the open
 * event streams, and nothing else.
 *
 * Never logged: the token, the session cookie, a request's URL or headers. The log gets one line
 * per operator action (api-routes.ts) and failures without request data.
 */
import { redirectPage } from "./open-browser.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { BottleError } from "../core/errors.js";
import type { OperatorContext } from "../operator/operator-context.js";
import { handleApi } from "./api-routes.js";
import type { ApiDeps } from "./api-routes.js";
import type { DashboardSecrets } from "./auth.js";
import { admit, makeSecrets, sessionCookie } from "./auth.js";
import { EventStreams } from "./event-stream.js";
import { pageDir, staticFile } from "./static-files.js";
import { TrafficFeed } from "./traffic-feed.js";
import { RequestsView } from "./request-actions.js";
import type { WireRequest } from "./wire.js";

export const DASHBOARD_HOST = "127.0.0.1";
const MAX_BODY = 64 * 1024;

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

export interface DashboardOptions {
  op: OperatorContext;
  /** 0: any free port. */
  port: number;
  /** Only 127.0.0.1 is accepted (BottleError `usage` otherwise). */
  bind?: string;
  /** Who acts, as decisions and rules record it (`dashboard:<user>`). */
  by: string;
  /** Where the operator's actions are reported (one line each). */
  log: (line: string) => void;
  /** The page's folder (default: dist/dashboard of this package). */
  pageDir?: string;
  pollMs?: number;
}

/** Refuses to serve on anything but the loopback address. */
export function checkBind(bind: string): void {
  if (bind !== DASHBOARD_HOST)
    throw new BottleError(
      "usage",
      `The dashboard listens on ${DASHBOARD_HOST} only, not ${bind}.`,
      {
        hint: "To reach it from another machine, forward a port over ssh (ssh -L) instead.",
      },
    );
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<{ body: unknown } | { error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return { error: `The body is larger than ${MAX_BODY} bytes.` };
    chunks.push(chunk);
  }
  if (size === 0) return { body: undefined };
  try {
    return { body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown };
  } catch {
    return { error: "The body is not JSON." };
  }
}

export class DashboardServer {
  private readonly secrets: DashboardSecrets = makeSecrets();
  private readonly server: http.Server;
  private readonly feed: TrafficFeed;
  private readonly streams: EventStreams;
  private readonly deps: ApiDeps;
  private readonly requests: RequestsView;
  private requestsTimer: NodeJS.Timeout | undefined;
  private lastRequests: WireRequest[] = [];
  private looking = false;
  private port = 0;

  constructor(private readonly options: DashboardOptions) {
    checkBind(options.bind ?? DASHBOARD_HOST);
    this.feed = new TrafficFeed(options.op.host, { pollMs: options.pollMs ?? 250 });
    this.streams = new EventStreams(this.feed);
    this.requests = new RequestsView(options.op, options.by);
    this.deps = {
      op: options.op,
      feed: this.feed,
      requests: this.requests,
      by: options.by,
      log: options.log,
    };
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent)
          sendJson(res, 500, { error: "The dashboard failed on this request." });
        else res.end();
        options.log("internal error while answering a request");
      });
    });
  }

  /** Listens; resolves with the address to open (the token in its query). */
  async start(): Promise<{ url: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, DASHBOARD_HOST, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.feed.start();
    await this.lookAtRequests();
    this.requestsTimer = setInterval(() => {
      void this.lookAtRequests();
    }, 500);
    this.requestsTimer.unref();
    return {
      url: `http://${DASHBOARD_HOST}:${this.port}/?token=${this.secrets.token}`,
      port: this.port,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.requestsTimer);
    this.feed.stop();
    this.streams.closeAll();
    const closed = new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
    this.server.closeAllConnections();
    await closed;
  }

  /** Reads the requests of every bottle and tells the open pages when they changed. */
  private async lookAtRequests(): Promise<void> {
    if (this.looking || !this.requests.changed()) return;
    this.looking = true;
    try {
      this.lastRequests = await this.requests.list();
      this.streams.publishRequests(this.lastRequests);
    } catch {
      // A state folder being written or removed: the next look reads it again.
    } finally {
      this.looking = false;
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const header = (name: string): string | undefined => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const method = req.method ?? "GET";
    const admission = admit(
      {
        method,
        url: req.url ?? "/",
        host: header("host"),
        origin: header("origin"),
        secFetchSite: header("sec-fetch-site"),
        cookie: header("cookie"),
        authorization: header("authorization"),
      },
      this.port,
      this.secrets,
    );
    const url = new URL(req.url ?? "/", `http://${DASHBOARD_HOST}:${this.port}`);
    if (admission.kind === "refuse") {
      if (url.pathname.startsWith("/api/"))
        sendJson(res, admission.status, { error: admission.message });
      else send(res, admission.status, "text/plain; charset=utf-8", `${admission.message}\n`);
      return;
    }
    if (admission.kind === "exchange" && admission.hop) {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "content-type": "text/html; charset=utf-8",
        "set-cookie": sessionCookie(this.port, this.secrets),
      });
      res.end(redirectPage(admission.location));
      return;
    }
    if (admission.kind === "exchange") {
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        location: admission.location,
        "set-cookie": sessionCookie(this.port, this.secrets),
      });
      res.end();
      return;
    }
    if (url.pathname === "/api/events" && method === "GET") {
      this.streams.open(req, res, this.lastRequests);
      return;
    }
    if (url.pathname.startsWith("/api/")) {
      const read = method === "POST" ? await readBody(req) : { body: undefined };
      if ("error" in read) {
        sendJson(res, 400, { error: read.error });
        return;
      }
      const answer = await handleApi(
        { method, pathname: url.pathname, query: url.searchParams, body: read.body },
        this.deps,
      );
      sendJson(res, answer.status, answer.body);
      return;
    }
    const file =
      method === "GET" ? staticFile(this.options.pageDir ?? pageDir(), url.pathname) : undefined;
    if (file === undefined) send(res, 404, "text/plain; charset=utf-8", "Not found.\n");
    else send(res, 200, file.type, file.body);
  }
}
