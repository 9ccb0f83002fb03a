/**
 * The supervise gate: an MCP server (the official SDK, Streamable HTTP transport at `/mcp`) on a
 * unix socket in the bottle's socket folder; the relay maps 127.0.0.1:3131 in the agent to it.
 * Through its tools the agent reads its rules and denials, files requests and waits for the
 * operator's decisions (supervise-tools.ts). Nothing here approves: this gate writes request files
 * and reads decision files, and holds no handle on the rules but a read.
 *
 * Stateless: each POST carries one JSON-RPC message (or batch) and gets one JSON answer; no
 * session survives a request, so a restarted sidecar or a reconnecting relay loses nothing.
 * GET and DELETE (server-sent streams, session end) get 405. A body that is not JSON gets a
 * JSON-RPC parse error; larger than 1 MiB gets 413. No handler failure crashes the sidecar.
 *
 * The MCP code (supervise-exchange.ts: the SDK, the tools) is loaded apart, at the first request:
 * the sidecar is ready sooner and an idle bottle's sidecar does not hold the SDK (about 6 MB). If
 * it cannot be loaded, every request is refused (503) and `serving()` is false (health leaves the
 * gate out of its list).
 */
import http from "node:http";
import { GATE_CONNECTIONS } from "../../core/contract/sidecar-limits.js";
import type { ListenTarget } from "../shared/gate-listen.js";
import { GateServer, guardedSink } from "../shared/gate-server.js";
import type { SuperviseAuditEntry, SuperviseContext } from "./supervise-tools.js";

import type * as ExchangeModule from "./supervise-exchange.js";

type Exchange = typeof ExchangeModule;

export const MCP_PATH = "/mcp";
const MAX_BODY = 1024 * 1024;

export type SuperviseGateOptions = SuperviseContext & {
  /** Loads the MCP code (default: supervise-exchange.js); tests give one that fails. */
  loadExchange?: () => Promise<Exchange>;
};
export type { SuperviseAuditEntry } from "./supervise-tools.js";

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res
    .writeHead(status, { "content-type": "application/json", ...headers })
    .end(JSON.stringify(body));
}

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

class BodyTooLarge extends Error {}

function readJson(
  req: http.IncomingMessage,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new BodyTooLarge());
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown });
      } catch {
        resolve({ ok: false });
      }
    });
    req.on("error", reject);
  });
}

export class SuperviseGate {
  private readonly server: GateServer;
  private readonly context: SuperviseContext;
  /** Aborted by stop(): every wait in progress returns at once. */
  private readonly stopping = new AbortController();
  private readonly loadExchange: () => Promise<Exchange>;
  private exchange: Promise<Exchange> | undefined;
  private loadFailed = false;

  constructor(options: SuperviseGateOptions) {
    const { loadExchange, ...context } = options;
    this.context = { ...context, audit: guardedSink<SuperviseAuditEntry>(context.audit) };
    this.loadExchange = loadExchange ?? (() => import("./supervise-exchange.js"));
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        sendJson(
          res,
          500,
          rpcError(
            -32603,
            `internal error: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
      });
    });
    this.server = new GateServer(server, "the supervise gate", {
      maxConnections: GATE_CONNECTIONS.supervise,
    });
  }

  listen(target: ListenTarget): Promise<void> {
    return this.server.listen(target);
  }

  /** Loads the MCP code now (once); a failure is kept: every request is then refused. */
  load(): Promise<Exchange> {
    this.exchange ??= this.loadExchange().catch((error: unknown) => {
      this.loadFailed = true;
      throw error;
    });
    return this.exchange;
  }

  /** False once its MCP code failed to load: it refuses every request. */
  serving(): boolean {
    return !this.loadFailed;
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    return this.server.address();
  }

  /** Stops accepting and closes every open connection (a wait in progress ends with it). */
  stop(): Promise<void> {
    this.stopping.abort();
    return this.server.stop();
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.on("error", () => undefined);
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== MCP_PATH) {
      req.resume();
      sendJson(res, 404, { error: `the supervise gate serves MCP at ${MCP_PATH} only` });
      return;
    }
    if (req.method !== "POST") {
      req.resume();
      sendJson(
        res,
        405,
        rpcError(
          -32000,
          "Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp",
        ),
        {
          allow: "POST",
        },
      );
      return;
    }
    let body: Awaited<ReturnType<typeof readJson>>;
    try {
      body = await readJson(req);
    } catch (error) {
      sendJson(
        res,
        error instanceof BodyTooLarge ? 413 : 400,
        rpcError(-32600, "the request body is too large or was cut"),
      );
      return;
    }
    if (!body.ok) {
      sendJson(res, 400, rpcError(-32700, "Parse error: the body is not JSON"));
      return;
    }
    let exchange: Exchange;
    try {
      exchange = await this.load();
    } catch {
      sendJson(
        res,
        503,
        rpcError(-32603, "the supervise gate cannot serve: its MCP server did not load"),
      );
      return;
    }
    await exchange.answerMcp(req, res, body.value, this.context, this.stopping.signal);
  }
}
