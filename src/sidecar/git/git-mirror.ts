/**
 * The gate's mirror of one upstream: a bare repository in the bottle's state folder (so it
 * survives stop and resume) that agents fetch from and that pushes go upstream from.
 *
 * - Made by `git clone --mirror` at the first use, into a temporary folder renamed when done:
 *   an interrupted clone leaves no half mirror.
 * - `refresh()` fetches every ref from the upstream, pruning what it deleted, and returns what
 *   changed. A failure throws MirrorError with git's own words (host key refused, no access).
 * - `exclusive()` runs mirror changes one at a time: a fetch never races a push.
 */
import fs from "node:fs";
import type { GitEnv } from "./git-process.js";
import { gitComplaint, gitText, runGit } from "./git-process.js";
import { ZERO_ID } from "./push-policy.js";

export interface MirrorRef {
  oid: string;
  name: string;
}

export interface RefChange {
  ref: string;
  old: string;
  new: string;
}

export class MirrorError extends Error {
  override readonly name = "MirrorError";
}

export function diffRefs(before: readonly MirrorRef[], after: readonly MirrorRef[]): RefChange[] {
  const old = new Map(before.map((ref) => [ref.name, ref.oid]));
  const changes: RefChange[] = [];
  for (const ref of after) {
    const was = old.get(ref.name) ?? ZERO_ID;
    if (was !== ref.oid) changes.push({ ref: ref.name, old: was, new: ref.oid });
    old.delete(ref.name);
  }
  for (const [name, oid] of old) changes.push({ ref: name, old: oid, new: ZERO_ID });
  return changes;
}

export class GitMirror {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly upstream: string,
    /** git's environment for reaching the upstream (key, known hosts, token). */
    private readonly upstreamEnv: () => GitEnv,
  ) {}

  /** Runs `task` after every mirror change queued before it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  get exists(): boolean {
    return fs.existsSync(`${this.dir}/HEAD`);
  }

  async refs(): Promise<MirrorRef[]> {
    if (!this.exists) return [];
    const text = await gitText(
      ["--git-dir", this.dir, "for-each-ref", "--format=%(objectname) %(refname)"],
      { env: this.upstreamEnv() },
    );
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const space = line.indexOf(" ");
        return { oid: line.slice(0, space), name: line.slice(space + 1) };
      });
  }

  /** Brings the mirror up to date with the upstream; call inside exclusive(). */
  async refresh(): Promise<RefChange[]> {
    const before = await this.refs();
    if (!this.exists) await this.cloneMirror();
    else await this.fetch();
    const after = await this.refs();
    const changes = diffRefs(before, after);
    // A mirror cloned while the upstream was empty points HEAD at a branch that may never come;
    // once branches appear, HEAD follows the upstream's (asked only then: it costs a round trip).
    if (changes.some((change) => change.old === ZERO_ID) && !(await this.headExists(after))) {
      await this.followUpstreamHead();
    }
    return changes;
  }

  private async headExists(refs: readonly MirrorRef[]): Promise<boolean> {
    const head = await runGit(["--git-dir", this.dir, "symbolic-ref", "HEAD"], {
      env: this.upstreamEnv(),
    });
    const target = head.stdout.toString("utf8").trim();
    return refs.some((ref) => ref.name === target);
  }

  private async cloneMirror(): Promise<void> {
    const temp = `${this.dir}.incoming-${process.pid}`;
    fs.rmSync(temp, { recursive: true, force: true });
    fs.mkdirSync(`${this.dir}/..`, { recursive: true });
    const result = await runGit(["clone", "--mirror", "--quiet", this.upstream, temp], {
      env: this.upstreamEnv(),
    });
    if (result.code !== 0) {
      fs.rmSync(temp, { recursive: true, force: true });
      throw new MirrorError(gitComplaint(result.stderr));
    }
    fs.renameSync(temp, this.dir);
  }

  private async fetch(): Promise<void> {
    // No automatic maintenance: it would run on the agent's time, at every fetch.
    const args = ["-c", "maintenance.auto=false", "-c", "gc.auto=0"];
    const result = await runGit(
      ["--git-dir", this.dir, ...args, "fetch", "--prune", "--quiet", "origin"],
      { env: this.upstreamEnv() },
    );
    if (result.code !== 0) throw new MirrorError(gitComplaint(result.stderr));
  }

  /** Points the mirror's HEAD where the upstream's points, so clones check out its branch. */
  private async followUpstreamHead(): Promise<void> {
    const env = this.upstreamEnv();
    const listed = await runGit(
      ["--git-dir", this.dir, "ls-remote", "--symref", "origin", "HEAD"],
      {
        env,
      },
    );
    const target = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(listed.stdout.toString("utf8"))?.[1];
    if (target !== undefined) {
      await runGit(["--git-dir", this.dir, "symbolic-ref", "HEAD", target], { env });
    }
  }
}
