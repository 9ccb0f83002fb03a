/**
 * The git gate: the agent's only way to its repositories. It serves git's smart HTTP protocol on
 * a unix socket (the relay maps 127.0.0.1:3130 to it), or on TCP for tests, from a mirror per
 * entry (git-mirror.ts), and reaches the upstreams itself with keys the agent never sees.
 *
 * Contract:
 * - Fetch and clone: every ref advertisement first brings the mirror up to date from the
 *   upstream; then `git upload-pack` serves the agent from the mirror. An upstream that cannot be
 *   reached (host key refused, no access) fails the agent's git with git's reason.
 * - Push: the gate reads the ref updates and the pack itself, into a quarantine
 *   (quarantine.ts), and judges them: the branch policy (push-policy.ts), the size, and the
 *   content the push adds (added-content.ts: secret detectors and the bottle's own secrets, in a
 *   worker thread). A refused push fails the agent's `git push` with the reason on every ref;
 *   nothing reaches the upstream or the mirror. An accepted one is pushed upstream, over a
 *   session opened while the push was judged (upstream-session.ts, SSH) or by git push
 *   (upstream-push.ts), and the upstream's answer, ok or refused with its own words, is what the
 *   agent gets.
 * - One audit entry per fetch and per push (refs, old and new ids, verdict, reason); never a key,
 *   a token or file content.
 */
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import { spawn } from "node:child_process";
import zlib from "node:zlib";
import type { ListenTarget } from "../gate-listen.js";
import { boundPort, listenGate } from "../gate-listen.js";
import type { ContentFinding, DlpMode } from "../egress/content-inspector.js";
import { describeFinding } from "../egress/content-inspector.js";
import type { GateRoute, GitService } from "./gate-routes.js";
import { routeOf } from "./gate-routes.js";
import type { GitEnv } from "./git-process.js";
import { runGit } from "./git-process.js";
import { GitMirror, MirrorError } from "./git-mirror.js";
import type { PushPolicy, RefUpdate } from "./push-policy.js";
import { ZERO_ID, judgePush } from "./push-policy.js";
import type { ContentScanner } from "./added-content.js";
import { scanAddedContent } from "./added-content.js";
import { missingObjects, withFastForward } from "./push-inspection.js";
import type { Quarantine } from "./quarantine.js";
import {
  admitQuarantine,
  dropLeftoverQuarantines,
  dropQuarantine,
  receiveIntoQuarantine,
} from "./quarantine.js";
import type { PushRequestHead, RefReport, RefUpdateCommand } from "./receive-pack.js";
import {
  parsePushHead,
  pushReport,
  receivePackAdvertisement,
  serviceAnnouncement,
} from "./receive-pack.js";
import { pushUpstream } from "./upstream-push.js";
import { UpstreamSession } from "./upstream-session.js";
import type { GitAuditEntry, GitAuditRef } from "./git-audit.js";

export interface GitGateRepo {
  name: string;
  upstream: string;
  push: PushPolicy;
}

export interface GitGateOptions {
  repos: readonly GitGateRepo[];
  /** Folder of the mirrors (`<name>.git` each), in the bottle's state folder. */
  mirrorDir: string;
  /** git's environment to reach a repo's upstream (key, known hosts, token). */
  upstreamEnv: (repo: string) => GitEnv;
  /** Content checks of what a push adds. */
  scan: ContentScanner;
  dlp: DlpMode;
  audit: (entry: GitAuditEntry) => void;
}

const GATE = "bot-bottle git gate";
const MAX_HEAD_BYTES = 1024 * 1024;

interface Repo extends GitGateRepo {
  mirror: GitMirror;
}

type Judgement =
  | { allowed: true; updates: RefUpdate[]; finding?: string }
  | { allowed: false; reason: string; finding?: string };

function text(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-cache",
  });
  res.end(`${GATE}: ${message}\n`);
}

function requestBody(req: http.IncomingMessage): Readable {
  const encoding = req.headers["content-encoding"];
  return encoding === "gzip" ? req.pipe(zlib.createGunzip()) : req;
}

/** Reads a push request up to the end of its head; the rest stays unread (paused) in `body`. */
function readPushHead(body: Readable): Promise<{ head: PushRequestHead; data: Buffer } | null> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const stop = (): void => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
      body.pause();
    };
    const done = (result: { head: PushRequestHead; data: Buffer } | null): void => {
      stop();
      resolve(result);
    };
    const onError = (error: unknown): void => {
      stop();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      try {
        const head = parsePushHead(data);
        if (head !== null) done({ head, data });
        else if (data.length > MAX_HEAD_BYTES) done(null);
      } catch (error) {
        onError(error);
      }
    };
    const onEnd = (): void => {
      done(null);
    };
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", onError);
  });
}

export class GitGate {
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly repos = new Map<string, Repo>();

  constructor(private readonly options: GitGateOptions) {
    for (const repo of options.repos) {
      const dir = path.join(options.mirrorDir, `${repo.name}.git`);
      const mirror = new GitMirror(dir, repo.upstream, () => options.upstreamEnv(repo.name));
      dropLeftoverQuarantines(dir);
      this.repos.set(repo.name, { ...repo, mirror });
    }
    this.server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        text(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    this.server.on("connection", (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("close", () => this.sockets.delete(socket));
    });
    this.server.on("error", () => undefined);
  }

  async listen(target: ListenTarget): Promise<void> {
    await listenGate(this.server, target);
  }

  port(): number {
    return boundPort(this.server, "git gate");
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const route = routeOf(req.method ?? "", req.url ?? "/");
    if (route === null) {
      req.resume();
      text(
        res,
        404,
        "this gate serves git's smart HTTP protocol for the bottle's repositories only",
      );
      return;
    }
    const repo = this.repos.get(route.repo);
    if (repo === undefined) {
      req.resume();
      const known = [...this.repos.keys()].join(", ") || "none";
      text(res, 404, `no repository "${route.repo}" in this bottle (it has: ${known})`);
      return;
    }
    await this.serve(route, repo, req, res);
  }

  private async serve(
    route: GateRoute,
    repo: Repo,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    if (route.kind === "advertise") {
      req.resume();
      await this.advertise(route.service, repo, req, res);
    } else if (route.service === "git-upload-pack") {
      this.uploadPack(repo, req, res);
    } else {
      await this.receivePack(repo, req, res);
    }
  }

  /** GET info/refs: the mirror refreshed from the upstream, then its refs. */
  private async advertise(
    service: GitService,
    repo: Repo,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const started = Date.now();
    let changes: GitAuditRef[];
    try {
      changes = await repo.mirror.exclusive(() => repo.mirror.refresh());
    } catch (error) {
      const reason =
        error instanceof MirrorError ? error.message : `mirror failed: ${String(error)}`;
      this.audit(repo, service === "git-upload-pack" ? "fetch" : "push", started, {
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
      this.audit(repo, "fetch", started, {
        verdict: "allow",
        reason: changes.length === 0 ? "up to date" : "fetched from upstream",
        refs: changes,
      });
      const result = await runGit(
        ["upload-pack", "--stateless-rpc", "--advertise-refs", repo.mirror.dir],
        { env: this.serveEnv(repo, req) },
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

  private serveEnv(repo: Repo, req: http.IncomingMessage): GitEnv {
    const env: Record<string, string> = { ...this.options.upstreamEnv(repo.name) };
    const protocol = req.headers["git-protocol"];
    if (typeof protocol === "string") env["GIT_PROTOCOL"] = protocol;
    return env;
  }

  /** POST git-upload-pack: served from the mirror as it is. */
  private uploadPack(repo: Repo, req: http.IncomingMessage, res: http.ServerResponse): void {
    const child = spawn("git", ["upload-pack", "--stateless-rpc", repo.mirror.dir], {
      env: this.serveEnv(repo, req),
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

  /** POST git-receive-pack: read, judged, forwarded upstream or refused. */
  private async receivePack(
    repo: Repo,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const started = Date.now();
    const body = requestBody(req);
    let read: Awaited<ReturnType<typeof readPushHead>>;
    try {
      read = await readPushHead(body);
    } catch (error) {
      body.resume();
      text(res, 400, `malformed push: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (read === null) {
      body.resume();
      text(
        res,
        400,
        "malformed push: the request ended before its ref updates did, or they ran past 1 MiB",
      );
      return;
    }
    const { head, data } = read;
    const answer = (refs: RefReport[], messages: string[], unpackError: string | null = null) => {
      res.writeHead(200, {
        "content-type": "application/x-git-receive-pack-result",
        "cache-control": "no-cache",
      });
      res.end(pushReport(head.capabilities, unpackError, refs, messages));
    };
    if (head.commands.length === 0) {
      // git's probe before a large push, or a push of nothing.
      body.resume();
      res.writeHead(200, { "content-type": "application/x-git-receive-pack-result" });
      res.end();
      return;
    }
    const refuse = (reason: string, extra: Partial<GitAuditEntry> = {}) => {
      this.audit(repo, "push", started, {
        verdict: "deny",
        reason,
        refs: [...head.commands],
        ...extra,
      });
      answer(
        head.commands.map((c) => ({ ref: c.ref, error: `refused by the gate: ${reason}` })),
        [`${GATE}: push refused: ${reason}`],
      );
    };

    const needsPack = head.commands.some((c) => c.new !== ZERO_ID);
    if (!needsPack || !repo.mirror.exists) body.resume();
    if (!repo.mirror.exists) {
      refuse("the mirror is not ready; fetch first");
      return;
    }
    // Opened now, so that the upstream is ready when the verdict is; sent nothing before it.
    const session = UpstreamSession.open(repo.upstream, this.options.upstreamEnv(repo.name));
    let quarantine: Quarantine;
    try {
      quarantine = await receiveIntoQuarantine(
        repo.mirror.dir,
        this.options.upstreamEnv(repo.name),
        needsPack ? { head: data.subarray(head.packOffset), rest: body } : null,
        repo.push.max_size_bytes,
      );
    } catch (error) {
      session?.close();
      throw error;
    }
    try {
      if (quarantine.unpackError !== null) {
        this.audit(repo, "push", started, {
          verdict: "error",
          reason: quarantine.unpackError,
          refs: [...head.commands],
        });
        answer(
          head.commands.map((c) => ({ ref: c.ref, error: "unpacker error" })),
          [`${GATE}: ${quarantine.unpackError}`],
          quarantine.unpackError,
        );
        return;
      }
      const judged = await this.judge(repo, head.commands, quarantine);
      const extra = {
        bytes: quarantine.bytes,
        ...(judged.finding === undefined ? {} : { finding: judged.finding }),
      };
      if (!judged.allowed) {
        refuse(judged.reason, extra);
        return;
      }
      await repo.mirror.exclusive(() =>
        this.forward(repo, judged.updates, quarantine, session, started, extra, answer),
      );
    } finally {
      session?.close();
      dropQuarantine(quarantine);
    }
  }

  /**
   * The verdict on a quarantined push: its refs (policy, force, delete), its size, whether its
   * objects are all there, and what it adds (content checks, under the bottle's dlp mode).
   */
  private async judge(
    repo: Repo,
    commands: readonly RefUpdateCommand[],
    quarantine: Quarantine,
  ): Promise<Judgement> {
    // Past the size limit the objects were never read: the size alone refuses it.
    const updates: RefUpdate[] = quarantine.tooBig
      ? commands.map((c) => ({ ...c, fastForward: true }))
      : await withFastForward(quarantine.env, commands);
    const verdict = judgePush(repo.push, updates, quarantine.bytes);
    if (!verdict.allowed) return { allowed: false, reason: verdict.reason };
    const tips = updates.filter((u) => u.new !== ZERO_ID).map((u) => u.new);
    const missing = await missingObjects(quarantine.env, tips);
    if (missing !== null) return { allowed: false, reason: missing };
    if (this.options.dlp === "off") return { allowed: true, updates };
    let found: ContentFinding | null;
    try {
      found = await scanAddedContent(quarantine.env, tips, this.options.scan);
    } catch (error) {
      return { allowed: false, reason: `its content could not be checked: ${String(error)}` };
    }
    if (found === null) return { allowed: true, updates };
    const finding = describeFinding(found);
    if (this.options.dlp === "warn") return { allowed: true, updates, finding };
    return {
      allowed: false,
      finding,
      reason:
        `it adds what looks like a secret (${found.kind}, in ${found.where.replace(/^path /, "")}); ` +
        "remove it from the commits (rewrite them) and push again",
    };
  }

  /** Pushes accepted updates upstream; the mirror takes what the upstream took. */
  private async forward(
    repo: Repo,
    updates: readonly RefUpdate[],
    quarantine: Quarantine,
    session: UpstreamSession | null,
    started: number,
    extra: Pick<GitAuditEntry, "bytes" | "finding">,
    answer: (refs: RefReport[], messages: string[]) => void,
  ): Promise<void> {
    const result =
      (await session?.push(updates, quarantine.env)) ??
      (await pushUpstream(quarantine.env, repo.upstream, updates));
    const taken = updates.filter((u) => result.refs.find((r) => r.ref === u.ref)?.error === null);
    if (taken.length > 0) {
      admitQuarantine(repo.mirror.dir, quarantine);
      const lines = taken.map((u) =>
        u.new === ZERO_ID ? `delete ${u.ref}\n` : `update ${u.ref} ${u.new}\n`,
      );
      // The quarantine is gone by now: the refs are set with the mirror's own environment.
      await runGit(["--git-dir", repo.mirror.dir, "update-ref", "--stdin"], {
        env: this.options.upstreamEnv(repo.name),
        input: Buffer.from(lines.join("")),
      });
    }
    const refused = result.refs.filter((r) => r.error !== null);
    const reason =
      refused.length === 0
        ? "pushed upstream"
        : `the upstream refused ${refused.map((r) => `${r.ref} (${r.error ?? ""})`).join(", ")}`;
    this.audit(repo, "push", started, {
      verdict: refused.length === 0 ? "allow" : "deny",
      reason,
      refs: updates.map(({ ref, old, new: next }) => {
        const error = result.refs.find((r) => r.ref === ref)?.error ?? null;
        return { ref, old, new: next, ...(error === null ? {} : { error }) };
      }),
      ...extra,
    });
    const messages = [...result.messages];
    if (refused.length > 0) messages.push(`${GATE}: ${reason}`);
    answer(
      result.refs.map((r) => ({
        ref: r.ref,
        error: r.error === null ? null : `upstream refused: ${r.error}`,
      })),
      messages,
    );
  }

  private audit(
    repo: Repo,
    op: GitAuditEntry["op"],
    started: number,
    entry: Pick<GitAuditEntry, "verdict" | "reason" | "refs"> & Partial<GitAuditEntry>,
  ): void {
    this.options.audit({
      time: new Date(started).toISOString(),
      op,
      repo: repo.name,
      duration_ms: Date.now() - started,
      ...entry,
    });
  }
}
