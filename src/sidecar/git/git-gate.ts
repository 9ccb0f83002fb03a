/**
 * The git gate: the agent's only way to its repositories. It serves git's smart HTTP protocol on
 * a unix socket (the relay maps 127.0.0.1:3130 to it), or on TCP for tests, from a mirror per
 * entry (git-mirror.ts), and reaches the upstreams itself with keys the agent never sees.
 *
 * Contract:
 * - Fetch and clone (fetch-serving.ts): every ref advertisement first brings the mirror up to
 *   date from the upstream; then `git upload-pack` serves the agent from the mirror. An upstream
 *   that cannot be reached (host key refused, no access) fails the agent's git with git's reason.
 * - Push: the gate reads the ref updates and the pack itself, into a quarantine
 *   (quarantine.ts), and judges them (push-judgement.ts): the ref names and branch policy
 *   (push-policy.ts), the size, and the content the push adds (added-content.ts: secret detectors
 *   and the bottle's own secrets, in a worker thread). A refused push fails the agent's `git push`
 *   with the reason on every ref; nothing reaches the upstream or the mirror. An accepted one is
 *   pushed upstream (push-forward.ts), and the upstream's answer, ok or refused with its own
 *   words, is what the agent gets.
 * - One audit entry per fetch and per push (refs, old and new ids, verdict, reason); never a key,
 *   a token or file content.
 */
import http from "node:http";
import path from "node:path";
import type { ListenTarget } from "../shared/gate-listen.js";
import { GateServer, guardedSink } from "../shared/gate-server.js";
import type { DlpMode } from "../shared/content-inspector.js";
import type { ContentScanner } from "./added-content.js";
import { advertise, uploadPack } from "./fetch-serving.js";
import { GATE, readPushHead, requestBody, text } from "./gate-http.js";
import type { GateContext, GatedRepo, GitGateRepo } from "./gate-repo.js";
import type { GateRoute } from "./gate-routes.js";
import { routeOf } from "./gate-routes.js";
import type { GitAuditEntry } from "./git-audit.js";
import { GitMirror } from "./git-mirror.js";
import type { GitEnv } from "./git-process.js";
import { forwardUpstream } from "./push-forward.js";
import { judgeQuarantinedPush } from "./push-judgement.js";
import { ZERO_ID } from "./push-policy.js";
import type { Quarantine } from "./quarantine.js";
import { dropLeftoverQuarantines, dropQuarantine, receiveIntoQuarantine } from "./quarantine.js";
import type { RefReport } from "./receive-pack.js";
import { pushReport } from "./receive-pack.js";
import { UpstreamSession } from "./upstream-session.js";

export type { GitGateRepo } from "./gate-repo.js";

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

export class GitGate {
  private readonly server: GateServer;
  private readonly sink: (entry: GitAuditEntry) => void;
  private readonly repos = new Map<string, GatedRepo>();
  private readonly context: GateContext;

  constructor(private readonly options: GitGateOptions) {
    this.sink = guardedSink(options.audit);
    this.context = {
      upstreamEnv: options.upstreamEnv,
      scan: options.scan,
      dlp: options.dlp,
      audit: (repo, op, started, entry) => {
        this.audit(repo, op, started, entry);
      },
    };
    for (const repo of options.repos) {
      const dir = path.join(options.mirrorDir, `${repo.name}.git`);
      const mirror = new GitMirror(dir, repo.upstream, () => options.upstreamEnv(repo.name));
      dropLeftoverQuarantines(dir);
      this.repos.set(repo.name, { ...repo, mirror });
    }
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        text(res, 500, `internal error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    this.server = new GateServer(server, "the git gate");
  }

  listen(target: ListenTarget): Promise<void> {
    return this.server.listen(target);
  }

  /** The bound TCP port (for tests). Throws when not listening on TCP. */
  address(): number {
    return this.server.address();
  }

  /** Stops accepting and closes every open connection (a fetch or push in flight ends). */
  stop(): Promise<void> {
    return this.server.stop();
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
    repo: GatedRepo,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    if (route.kind === "advertise") {
      req.resume();
      await advertise(this.context, route.service, repo, req, res);
    } else if (route.service === "git-upload-pack") {
      uploadPack(this.context, repo, req, res);
    } else {
      await this.receivePack(repo, req, res);
    }
  }

  /** POST git-receive-pack: read, judged, forwarded upstream or refused. */
  private async receivePack(
    repo: GatedRepo,
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
    /** Refuses the whole push: each ref with its own reason (`byRef`), else the push's. */
    const refuse = (
      reason: string,
      extra: Partial<GitAuditEntry> = {},
      byRef?: ReadonlyMap<string, string>,
    ) => {
      const why = (ref: string): string => byRef?.get(ref) ?? reason;
      this.audit(repo, "push", started, {
        verdict: "deny",
        reason: byRef === undefined ? reason : [...new Set(byRef.values())].join("; "),
        refs:
          byRef === undefined
            ? [...head.commands]
            : head.commands.map((c) => ({ ...c, error: why(c.ref) })),
        ...extra,
      });
      answer(
        head.commands.map((c) => ({ ref: c.ref, error: `refused by the gate: ${why(c.ref)}` })),
        byRef === undefined
          ? [`${GATE}: push refused: ${reason}`]
          : [
              `${GATE}: push refused:`,
              ...head.commands.map((c) => `${GATE}: ${c.ref}: ${why(c.ref)}`),
            ],
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
      const judged = await judgeQuarantinedPush(this.context, repo, head.commands, quarantine);
      const extra = {
        bytes: quarantine.bytes,
        ...(judged.finding === undefined ? {} : { finding: judged.finding }),
      };
      if (!judged.allowed) {
        refuse(judged.reason, extra, judged.byRef);
        return;
      }
      await repo.mirror.exclusive(() =>
        forwardUpstream(
          this.context,
          repo,
          judged.updates,
          quarantine,
          session,
          started,
          extra,
          answer,
        ),
      );
    } finally {
      session?.close();
      dropQuarantine(quarantine);
    }
  }

  /**
   * Replaces the push branch patterns of the named repositories (the operator approved a
   * push-branch request), for the next push; a push being judged keeps the patterns it started
   * with. Throws, changing nothing, when a name is not one of the gate's repositories.
   */
  setPushBranches(branches: Readonly<Record<string, readonly string[]>>): void {
    const unknown = Object.keys(branches).filter((name) => !this.repos.has(name));
    if (unknown.length > 0) throw new Error(`no repository ${unknown.join(", ")} in this bottle`);
    for (const [name, patterns] of Object.entries(branches)) {
      const repo = this.repos.get(name);
      if (repo !== undefined) {
        this.repos.set(name, { ...repo, push: { ...repo.push, branches: [...patterns] } });
      }
    }
  }

  /** The push branch patterns in force per repository. */
  pushBranches(): Record<string, string[]> {
    return Object.fromEntries([...this.repos].map(([name, repo]) => [name, repo.push.branches]));
  }

  private audit(
    repo: GatedRepo,
    op: GitAuditEntry["op"],
    started: number,
    entry: Pick<GitAuditEntry, "verdict" | "reason" | "refs"> & Partial<GitAuditEntry>,
  ): void {
    this.sink({
      time: new Date(started).toISOString(),
      op,
      repo: repo.name,
      duration_ms: Date.now() - started,
      ...entry,
    });
  }
}
