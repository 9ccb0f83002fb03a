/**
 * A real git upstream over HTTPS on 127.0.0.1: Node's https server (a leaf from a test CA) in
 * front of `git http-backend`, git's own CGI, that answers only requests carrying the expected
 * token (Basic, as the gate sends it). For tests of the git gate's https entries.
 */
import { spawn } from "node:child_process";
import type http from "node:http";
import fs from "node:fs";
import https from "node:https";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";

export interface HttpsGitUpstream {
  /** PEM of the CA the server's certificate comes from. */
  caPem: string;
  /** Folder of the bare repositories (`<name>.git`). */
  root: string;
  url(name: string): string;
  /** Requests refused for a missing or wrong token. */
  refused(): number;
  stop(): Promise<void>;
}

function runBackend(req: http.IncomingMessage, res: http.ServerResponse, root: string): void {
  const url = new URL(req.url ?? "/", "https://upstream");
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env["PATH"] ?? "",
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      REMOTE_USER: "gate", // an authenticated user may push
      REQUEST_METHOD: req.method ?? "GET",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      ...(req.headers["content-encoding"] === undefined
        ? {}
        : { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] }),
      ...(req.headers["git-protocol"] === undefined
        ? {}
        : { GIT_PROTOCOL: String(req.headers["git-protocol"]) }),
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end === -1) return;
    started = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on("close", () => {
    res.end();
  });
}

export async function startHttpsGit(token: string): Promise<HttpsGitUpstream> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bottle-https-git-"));
  const ca = await createBottleCa("https-git-upstream");
  const leaf = await new LeafCertificates(ca).issuePem("127.0.0.1");
  const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
  let refused = 0;
  const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    if (req.headers.authorization !== expected) {
      refused += 1;
      req.resume();
      res.writeHead(401, {
        "www-authenticate": 'Basic realm="test"',
        "content-type": "text/plain",
      });
      res.end("token required\n");
      return;
    }
    runBackend(req, res, root);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    caPem: ca.certPem,
    root,
    url: (name) => `https://127.0.0.1:${port}/${name}.git`,
    refused: () => refused,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
