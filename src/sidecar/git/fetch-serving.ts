/**
 * Fetch and clone through the git gate: every ref advertisement first brings the mirror up to
 * date from the upstream (a push's too, so the agent bases it on what is there); then
 * `git upload-pack` serves the agent from the mirror. An upstream that cannot be reached fails
 * the agent's git with git's reason.
 */
import { spawn } from "node:child_process";
import type http from "node:http";
import type { GateContext, GatedRepo } from "./gate-repo.js";
import type { GitService } from "./gate-routes.js";
import { requestBody, text } from "./gate-http.js";
import type { GitAuditRef } from "./git-audit.js";
import { MirrorError } from "./git-mirror.js";
import type { GitEnv } from "./git-process.js";
import { runGit } from "./git-process.js";
import { receivePackAdvertisement, serviceAnnouncement } from "./receive-pack.js";

/** GET info/refs: the mirror refreshed from the upstream, then its refs. */
export async function advertise(
  gate: GateContext,
  service: GitService,
  repo: GatedRepo,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const started = Date.now();
  let changes: GitAuditRef[];
  try {
    changes = await repo.mirror.exclusive(() => repo.mirror.refresh());
  } catch (error) {
    const reason = error instanceof MirrorError ? error.message : `mirror failed: ${String(error)}`;
    gate.audit(repo, service === "git-upload-pack" ? "fetch" : "push", started, {
      verdict: "error",
      reason: `upstream unreachable: ${reason}`,
      refs: [],
    });
    text(
      res,
      502,
      `cannot reach the upstream of ${repo.name}: ${reason}\n` +
        "The operator can check the entry's key, known_hosts and upstream in the manifest.",
    );
    return;
  }
  if (service === "git-upload-pack") {
    gate.audit(repo, "fetch", started, {
      verdict: "allow",
      reason: changes.length === 0 ? "up to date" : "fetched from upstream",
      refs: changes,
    });
    const result = await runGit(
      ["upload-pack", "--stateless-rpc", "--advertise-refs", repo.mirror.dir],
      { env: serveEnv(gate, repo, req) },
    );
    if (result.code !== 0) {
      text(res, 500, `upload-pack failed: ${result.stderr.trim()}`);
      return;
    }
    const v2 = /version=2/.test(String(req.headers["git-protocol"] ?? ""));
    res.writeHead(200, {
      "content-type": "application/x-git-upload-pack-advertisement",
      "cache-control": "no-cache",
    });
    if (!v2) res.write(serviceAnnouncement("git-upload-pack"));
    res.end(result.stdout);
    return;
  }
  const refs = await repo.mirror.refs();
  res.writeHead(200, {
    "content-type": "application/x-git-receive-pack-advertisement",
    "cache-control": "no-cache",
  });
  res.end(receivePackAdvertisement(refs));
}

function serveEnv(gate: GateContext, repo: GatedRepo, req: http.IncomingMessage): GitEnv {
  const env: Record<string, string> = { ...gate.upstreamEnv(repo.name) };
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env["GIT_PROTOCOL"] = protocol;
  return env;
}

/** POST git-upload-pack: served from the mirror as it is. */
export function uploadPack(
  gate: GateContext,
  repo: GatedRepo,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const child = spawn("git", ["upload-pack", "--stateless-rpc", repo.mirror.dir], {
    env: serveEnv(gate, repo, req),
    stdio: ["pipe", "pipe", "ignore"],
  });
  child.stdin.on("error", () => undefined);
  child.on("error", () => {
    text(res, 500, "upload-pack could not start");
  });
  res.writeHead(200, {
    "content-type": "application/x-git-upload-pack-result",
    "cache-control": "no-cache",
  });
  requestBody(req).pipe(child.stdin);
  child.stdout.pipe(res);
  res.on("close", () => {
    if (child.exitCode === null) child.kill();
  });
}
