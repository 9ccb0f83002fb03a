/**
 * The sidecar's control API, on a unix socket in the bottle's state folder: the host reaches it,
 * the agent does not (that folder is never mounted into the agent). For now it answers health;
 * live policy changes come with the egress gate.
 */
import fs from "node:fs";
import http from "node:http";

export interface HealthReport {
  ok: boolean;
  identity: string;
  gates: string[];
  uptime_ms: number;
}

export class ControlServer {
  private readonly server: http.Server;
  private readonly startedAt = Date.now();

  constructor(private readonly health: () => Omit<HealthReport, "uptime_ms">) {
    this.server = http.createServer((req, res) => {
      if (req.method === "GET" && req.url === "/health") {
        const body = JSON.stringify({ ...this.health(), uptime_ms: Date.now() - this.startedAt });
        res.writeHead(200, { "content-type": "application/json" }).end(body);
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
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
    await new Promise<void>((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }
}
