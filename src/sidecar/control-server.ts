/**
 * The sidecar's control API, on a unix socket in the bottle's state folder: the host reaches it,
 * the agent does not (that folder is never mounted into the agent).
 *
 *   GET  /health   liveness and the gates served
 *   PUT  /secrets  the bottle's tokens and keys, held in memory only (never written, never logged)
 *   GET  /policy   the egress rules in force
 *   PUT  /policy   replace the egress rules, effective for the next request
 *
 * A handler that throws answers 500 and changes nothing it had not already applied.
 */
import fs from "node:fs";
import http from "node:http";
import type { EgressRules } from "../core/policy/policy-change.js";
import type { SidecarSecrets } from "./sidecar-config.js";

export interface HealthReport {
  /** True once the secrets are held and the gates serve; false while they refuse everything. */
  ok: boolean;
  state: "ready" | "degraded: waiting for secrets";
  identity: string;
  gates: string[];
  uptime_ms: number;
}

export interface ControlHandlers {
  health(): Omit<HealthReport, "uptime_ms">;
  setSecrets(secrets: SidecarSecrets): void;
  getPolicy(): EgressRules;
  setPolicy(rules: EgressRules): void;
}

const MAX_BODY = 1024 * 1024;

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown);
      } catch {
        reject(new Error("body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

function isRules(value: unknown): value is EgressRules {
  const v = value as Partial<EgressRules> | null;
  return typeof v === "object" && v !== null && Array.isArray(v.allow) && Array.isArray(v.deny);
}

function isSecrets(value: unknown): value is SidecarSecrets {
  const v = value as Partial<SidecarSecrets> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.credentials === "object" &&
    typeof v.git === "object"
  );
}

export class ControlServer {
  private readonly server: http.Server;
  private readonly startedAt = Date.now();

  constructor(private readonly handlers: ControlHandlers) {
    this.server = http.createServer((req, res) => {
      void this.route(req, res);
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    try {
      const route = `${req.method ?? ""} ${req.url ?? ""}`;
      if (route === "GET /health") {
        send(200, { ...this.handlers.health(), uptime_ms: Date.now() - this.startedAt });
      } else if (route === "GET /policy") {
        send(200, this.handlers.getPolicy());
      } else if (route === "PUT /policy") {
        const body = await readBody(req);
        if (!isRules(body)) {
          send(400, { error: "expected {allow: [...], deny: [...]}" });
          return;
        }
        this.handlers.setPolicy(body);
        send(200, { ok: true });
      } else if (route === "PUT /secrets") {
        const body = await readBody(req);
        if (!isSecrets(body)) {
          send(400, { error: "expected {credentials: {...}, git: {...}}" });
          return;
        }
        this.handlers.setSecrets(body);
        send(200, { ok: true });
      } else send(404, { error: `no route ${route}` });
    } catch (error) {
      send(500, { error: error instanceof Error ? error.message : "internal error" });
    }
  }

  async listen(socketPath: string): Promise<void> {
    fs.rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(socketPath, resolve);
    });
    fs.chmodSync(socketPath, 0o600);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
