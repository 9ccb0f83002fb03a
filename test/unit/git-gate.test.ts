/**
 * The git gate as a real server on loopback, in front of a real sshd serving bare repositories,
 * driven by the real git client configured as in a bottle: the upstream URL rewritten to the gate
 * (url.insteadOf), and no key of its own.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { BackgroundScanner } from "../../src/sidecar/dlp/background-scanner.js";
import type { GitAuditEntry } from "../../src/sidecar/git/git-audit.js";
import type { GitGateRepo } from "../../src/sidecar/git/git-gate.js";
import { GitGate } from "../../src/sidecar/git/git-gate.js";
import { UpstreamCredentials } from "../../src/sidecar/git/upstream-credentials.js";
import { UpstreamSession } from "../../src/sidecar/git/upstream-session.js";
import type { SshUpstream } from "../helpers/sshd.js";
import { startSshd } from "../helpers/sshd.js";

const FAKE_TOKEN = `ghp_${"FAKEtokenFORtests0123456789abcdefghij".slice(0, 36)}`;
const ZERO = "0".repeat(40);
const policy = { branches: ["bottle/t1/*"], force: false, delete: false, max_size_bytes: 1 << 20 };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("close", (code) => {
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

function bare(dir: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", dir, ...args], { encoding: "utf8" }).trim();
}

describe("git gate", () => {
  let sshd: SshUpstream;
  let tmp: string;
  let gate: GitGate;
  let scanner: BackgroundScanner;
  let credentials: UpstreamCredentials;
  let agentEnv: NodeJS.ProcessEnv;
  let seedPush: (name: string) => void;
  const audit: GitAuditEntry[] = [];
  const upstreams: Record<string, string> = {};

  async function agentGit(args: string[], cwd = tmp): Promise<Run> {
    return run(args, cwd, agentEnv);
  }

  /** A fresh clone of `repo` through the gate, by its upstream URL. */
  async function cloneOf(repo: string): Promise<string> {
    const dir = fs.mkdtempSync(path.join(tmp, `clone-${repo}-`));
    const cloned = await agentGit(["clone", "--quiet", sshd.url(repo), dir]);
    assert.equal(cloned.code, 0, cloned.stderr);
    return dir;
  }

  async function commit(dir: string, file: string, content: string): Promise<void> {
    fs.writeFileSync(path.join(dir, file), content);
    assert.equal((await agentGit(["add", file], dir)).code, 0);
    const made = await agentGit(["commit", "--quiet", "-m", `add ${file}`], dir);
    assert.equal(made.code, 0, made.stderr);
  }

  before(async () => {
    sshd = await startSshd();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-git-gate-"));
    // Upstreams: app (seeded with main), guarded (a pre-receive hook refuses every push),
    // small (a tiny size limit), stranger (a host key the gate does not know), late (empty at
    // first clone, its main branch pushed later by someone else).
    for (const name of ["app", "guarded", "small", "stranger", "late"])
      upstreams[name] = sshd.createBareRepo(name);
    const seed = path.join(tmp, "seed");
    const hostEnv = {
      ...process.env,
      GIT_SSH_COMMAND: sshd.sshCommand(),
      GIT_CONFIG_GLOBAL: "/dev/null",
    };
    execFileSync("git", ["init", "--quiet", "-b", "main", seed]);
    fs.writeFileSync(path.join(seed, "README"), "seed\n");
    for (const args of [
      ["add", "README"],
      ["-c", "user.name=op", "-c", "user.email=op@example.test", "commit", "--quiet", "-m", "seed"],
      ["push", "--quiet", sshd.url("app"), "main"],
      ["push", "--quiet", sshd.url("guarded"), "main"],
    ]) {
      execFileSync("git", args, { cwd: seed, env: hostEnv });
    }
    const hook = path.join(upstreams["guarded"] ?? "", "hooks", "pre-receive");
    fs.writeFileSync(hook, "#!/bin/sh\necho 'upstream policy: no pushes today' >&2\nexit 1\n", {
      mode: 0o755,
    });

    credentials = new UpstreamCredentials({
      app: sshd.knownHostsLine,
      guarded: sshd.knownHostsLine,
      small: sshd.knownHostsLine,
      late: sshd.knownHostsLine,
      stranger:
        "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOf8y0m0kdMGXOk2NKcd4pGXWtbb0rRpXi5kB3jLCdQn\n",
    });
    const key = fs.readFileSync(sshd.identityFile, "utf8");
    credentials.set(
      Object.fromEntries(
        ["app", "guarded", "small", "stranger", "late"].map((n) => [n, { identityKey: key }]),
      ),
    );
    const ownSecrets = key
      .split("\n")
      .filter((line) => line.length >= 40 && !line.startsWith("-----"));
    scanner = new BackgroundScanner({ ownSecrets });
    const repos: GitGateRepo[] = ["app", "guarded", "small", "stranger", "late"].map((name) => ({
      name,
      upstream: sshd.url(name),
      push: name === "small" ? { ...policy, max_size_bytes: 4096 } : policy,
    }));
    gate = new GitGate({
      repos,
      mirrorDir: path.join(tmp, "mirrors"),
      upstreamEnv: (name) => credentials.env(name),
      scan: (text, where) => scanner.scan(text, where),
      dlp: "block",
      audit: (entry) => audit.push(entry),
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });

    // The agent's git: the upstream URLs rewritten to the gate, and no way to use ssh itself.
    const gitconfig = path.join(tmp, "agent.gitconfig");
    fs.writeFileSync(
      gitconfig,
      [
        "[user]\n\tname = agent\n\temail = agent@bottle.test\n",
        ...repos.map(
          (r) =>
            `[url "http://127.0.0.1:${gate.address()}/${r.name}"]\n\tinsteadOf = ${r.upstream.replace(/\.git$/, "")}\n`,
        ),
      ].join(""),
    );
    seedPush = (name) => {
      execFileSync("git", ["push", "--quiet", sshd.url(name), "main"], { cwd: seed, env: hostEnv });
    };
    agentEnv = {
      PATH: process.env["PATH"],
      HOME: tmp,
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_SSH_COMMAND: "false",
      GIT_TERMINAL_PROMPT: "0",
    };
  });

  after(async () => {
    await gate.stop();
    await scanner.close();
    credentials.close();
    await sshd.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("clones by the upstream URL, and an allowed push lands upstream", async () => {
    const dir = await cloneOf("app");
    assert.equal(
      (await agentGit(["config", "--get", "remote.origin.url"], dir)).stdout.trim(),
      sshd.url("app"),
    );
    assert.ok(fs.existsSync(path.join(dir, "README")));
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/feature"], dir);
    await commit(dir, "work.txt", "the agent's work\n");
    const pushed = await agentGit(["push", "origin", "bottle/t1/feature"], dir);
    assert.equal(pushed.code, 0, pushed.stderr);
    const head = (await agentGit(["rev-parse", "HEAD"], dir)).stdout.trim();
    assert.equal(bare(upstreams["app"] ?? "", "rev-parse", "refs/heads/bottle/t1/feature"), head);
    // The mirror takes what the upstream took, without waiting for the next fetch.
    assert.equal(
      bare(path.join(tmp, "mirrors", "app.git"), "rev-parse", "refs/heads/bottle/t1/feature"),
      head,
    );
    const entry = audit.findLast((e) => e.op === "push");
    assert.equal(entry?.verdict, "allow");
    assert.deepEqual(entry.refs[0]?.new, head);
  });

  it("refuses a push to a protected branch, saying why; the upstream is unchanged", async () => {
    const before = bare(upstreams["app"] ?? "", "rev-parse", "main");
    const dir = await cloneOf("app");
    await commit(dir, "sneaky.txt", "straight to main\n");
    const pushed = await agentGit(["push", "origin", "main"], dir);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /main is protected: this bottle may push only to bottle\/t1\/\*/);
    assert.match(pushed.stderr, /\[remote rejected\] main -> main/);
    assert.equal(bare(upstreams["app"] ?? "", "rev-parse", "main"), before);
    assert.equal(audit.findLast((e) => e.op === "push")?.verdict, "deny");
  });

  it("widens its push branches live (an approved push-branch request): the next push lands", async () => {
    const dir = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "feature/live"], dir);
    await commit(dir, "live.txt", "after approval\n");
    const refused = await agentGit(["push", "origin", "feature/live"], dir);
    assert.notEqual(refused.code, 0);
    assert.throws(() => {
      gate.setPushBranches({ app: ["feature/*"], nope: ["x"] });
    }, /no repository nope/);
    assert.deepEqual(gate.pushBranches()["app"], policy.branches, "nothing changed");
    gate.setPushBranches({ app: [...policy.branches, "feature/*"] });
    try {
      const pushed = await agentGit(["push", "origin", "feature/live"], dir);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.equal(
        bare(upstreams["app"] ?? "", "rev-parse", "feature/live"),
        (await agentGit(["rev-parse", "HEAD"], dir)).stdout.trim(),
      );
    } finally {
      gate.setPushBranches({ app: policy.branches });
    }
  });

  it("refuses a force push and a deletion", async () => {
    const dir = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/rewrite"], dir);
    await commit(dir, "a.txt", "first\n");
    assert.equal((await agentGit(["push", "origin", "bottle/t1/rewrite"], dir)).code, 0);
    const upstreamRef = bare(upstreams["app"] ?? "", "rev-parse", "refs/heads/bottle/t1/rewrite");
    await agentGit(["commit", "--quiet", "--amend", "-m", "rewritten"], dir);
    const forced = await agentGit(["push", "--force", "origin", "bottle/t1/rewrite"], dir);
    assert.notEqual(forced.code, 0);
    assert.match(forced.stderr, /not a fast-forward\); force pushes are not allowed/);
    const deleted = await agentGit(["push", "origin", ":bottle/t1/rewrite"], dir);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /deleting bottle\/t1\/rewrite is not allowed/);
    assert.equal(
      bare(upstreams["app"] ?? "", "rev-parse", "refs/heads/bottle/t1/rewrite"),
      upstreamRef,
    );
  });

  it("refuses a commit that holds a token, or the bottle's own key, naming the file but not the value", async () => {
    const dir = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/leak"], dir);
    await commit(dir, "config.env", `GITHUB_TOKEN=${FAKE_TOKEN}\n`);
    const pushed = await agentGit(["push", "origin", "bottle/t1/leak"], dir);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /looks like a secret \(github-token, in config\.env\)/);
    assert.ok(!pushed.stderr.includes(FAKE_TOKEN));
    assert.throws(() =>
      bare(upstreams["app"] ?? "", "rev-parse", "--verify", "-q", "refs/heads/bottle/t1/leak"),
    );
    assert.ok(!JSON.stringify(audit).includes(FAKE_TOKEN));

    const keyLine = fs.readFileSync(sshd.identityFile, "utf8").split("\n")[1] ?? "";
    const again = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/key"], again);
    await commit(again, "notes.md", `found this: ${keyLine}\n`);
    const own = await agentGit(["push", "origin", "bottle/t1/key"], again);
    assert.notEqual(own.code, 0);
    assert.match(own.stderr, /own-secret, in notes\.md/);

    // In a commit message too, even behind a line that looks like the start of a diff.
    const message = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/message"], message);
    const committed = await agentGit(
      ["commit", "--quiet", "--allow-empty", "-m", "notes", "-m", `diff --git a b\n${FAKE_TOKEN}`],
      message,
    );
    assert.equal(committed.code, 0, committed.stderr);
    const sent = await agentGit(["push", "origin", "bottle/t1/message"], message);
    assert.notEqual(sent.code, 0);
    assert.match(sent.stderr, /github-token, in commit [0-9a-f]{40}/);
  });

  it("under dlp warn, lets a push holding a token go upstream and records the finding", async () => {
    const warned: GitAuditEntry[] = [];
    const lenientScanner = new BackgroundScanner({ ownSecrets: [] });
    const lenient = new GitGate({
      repos: [{ name: "app", upstream: sshd.url("app"), push: policy }],
      mirrorDir: path.join(tmp, "lenient-mirrors"),
      upstreamEnv: (name) => credentials.env(name),
      scan: (text, where) => lenientScanner.scan(text, where),
      dlp: "warn",
      audit: (entry) => warned.push(entry),
    });
    await lenient.listen({ host: "127.0.0.1", port: 0 });
    try {
      const dir = await cloneOf("app");
      await agentGit(["checkout", "--quiet", "-b", "bottle/t1/warned"], dir);
      await commit(dir, "ci.env", `TOKEN=${FAKE_TOKEN}\n`);
      const url = `http://127.0.0.1:${lenient.address()}/app`;
      const pushed = await agentGit(["push", url, "bottle/t1/warned"], dir);
      assert.equal(pushed.code, 0, pushed.stderr);
      const entry = warned.findLast((e) => e.op === "push");
      assert.equal(entry?.verdict, "allow");
      assert.equal(entry.finding, "github-token@path ci.env");
    } finally {
      await lenient.stop();
      await lenientScanner.close();
    }
  });

  it("passes the upstream's own refusal back as a failed push", async () => {
    const dir = await cloneOf("guarded");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/x"], dir);
    await commit(dir, "x.txt", "x\n");
    const pushed = await agentGit(["push", "origin", "bottle/t1/x"], dir);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /remote: upstream policy: no pushes today/);
    assert.match(pushed.stderr, /upstream refused: pre-receive hook declined/);
    assert.throws(() =>
      bare(upstreams["guarded"] ?? "", "rev-parse", "--verify", "-q", "refs/heads/bottle/t1/x"),
    );
  });

  it("sends a judged push over its own ssh session, with a lease on every ref", async () => {
    const upstream = upstreams["app"] ?? "";
    const main = bare(upstream, "rev-parse", "refs/heads/main");
    // A commit the upstream lacks, in a repository standing for the quarantine.
    const work = path.join(tmp, "session.git");
    execFileSync("git", ["clone", "--quiet", "--bare", upstream, work]);
    const tree = bare(work, "rev-parse", "main^{tree}");
    const made = bare(
      work,
      "-c",
      "user.name=a",
      "-c",
      "user.email=a@b.test",
      "commit-tree",
      tree,
      "-p",
      main,
      "-m",
      "via session",
    );
    const env = credentials.env("app");
    const packEnv = { ...env, GIT_DIR: work };
    const ref = "refs/heads/bottle/t1/session";
    const update = (old: string) => [{ ref, old, new: made, fastForward: true }];

    // Closed unused (a refused push): the upstream changes nothing.
    const unused = UpstreamSession.open(sshd.url("app"), env);
    assert.ok(unused !== null);
    unused.close();
    // A ref that is not where the gate saw it: refused by the upstream itself.
    const stale = await UpstreamSession.open(sshd.url("app"), env)?.push(update(main), packEnv);
    assert.ok(stale !== null && stale !== undefined, "the session took the push");
    assert.notEqual(stale.refs[0]?.error ?? null, null);
    assert.throws(() => bare(upstream, "rev-parse", "--verify", "-q", ref));

    const pushed = await UpstreamSession.open(sshd.url("app"), env)?.push(update(ZERO), packEnv);
    assert.deepEqual(pushed?.refs, [{ ref, error: null }]);
    assert.equal(bare(upstream, "rev-parse", ref), made);
    // Not an SSH upstream: git push does it.
    assert.equal(UpstreamSession.open("https://example.test/app.git", env), null);
  });

  it("refuses a push larger than the entry allows", async () => {
    const dir = await cloneOf("small");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/big"], dir);
    fs.writeFileSync(path.join(dir, "blob.bin"), crypto.getRandomValues(new Uint8Array(64 * 1024)));
    await agentGit(["add", "blob.bin"], dir);
    await agentGit(["commit", "--quiet", "-m", "big"], dir);
    const pushed = await agentGit(["push", "origin", "bottle/t1/big"], dir);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /more than the 4096 this bottle accepts/);
    assert.equal(bare(upstreams["small"] ?? "", "for-each-ref"), "");
  });

  it("answers malformed requests with a reason, and a corrupt pack with an unpack error", async () => {
    const base = `http://127.0.0.1:${gate.address()}`;
    const garbage = await fetch(`${base}/app/git-receive-pack`, { method: "POST", body: "zzzz" });
    assert.equal(garbage.status, 400);
    assert.match(await garbage.text(), /malformed push/);
    const unknown = await fetch(`${base}/nope/info/refs?service=git-upload-pack`);
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /no repository "nope" in this bottle \(it has: app, /);
    const dumb = await fetch(`${base}/app/objects/info/packs`);
    assert.equal(dumb.status, 404);

    const head = bare(upstreams["app"] ?? "", "rev-parse", "main");
    const command = `${head} ${"1".repeat(40)} refs/heads/bottle/t1/corrupt\0report-status\n`;
    const line = `${(command.length + 4).toString(16).padStart(4, "0")}${command}`;
    const corrupt = await fetch(`${base}/app/git-receive-pack`, {
      method: "POST",
      headers: { "content-type": "application/x-git-receive-pack-request" },
      body: `${line}0000PACK\x00\x00\x00\x02not a pack at all`,
    });
    assert.equal(corrupt.status, 200);
    const report = await corrupt.text();
    assert.match(report, /unpack index-pack failed/);
    assert.match(report, /ng refs\/heads\/bottle\/t1\/corrupt unpacker error/);
    assert.throws(() =>
      bare(upstreams["app"] ?? "", "rev-parse", "--verify", "-q", "refs/heads/bottle/t1/corrupt"),
    );
  });

  it("refuses an upstream whose host key it does not know", async () => {
    const cloned = await agentGit(["clone", sshd.url("stranger"), path.join(tmp, "stranger")]);
    assert.notEqual(cloned.code, 0);
    assert.match(
      cloned.stderr,
      /cannot reach the upstream of stranger: .*Host key verification failed/,
    );
    assert.equal(audit.findLast((e) => e.repo === "stranger")?.verdict, "error");
  });

  it("follows the upstream's default branch once it exists, for a mirror made while it was empty", async () => {
    const empty = await agentGit(["clone", "--quiet", sshd.url("late"), path.join(tmp, "late-1")]);
    assert.equal(empty.code, 0, empty.stderr);
    seedPush("late");
    const dir = path.join(tmp, "late-2");
    const cloned = await agentGit(["clone", "--quiet", sshd.url("late"), dir]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.equal((await agentGit(["branch", "--show-current"], dir)).stdout.trim(), "main");
    assert.ok(fs.existsSync(path.join(dir, "README")));
  });

  it("fetches what others pushed upstream since", async () => {
    const dir = await cloneOf("app");
    const other = await cloneOf("app");
    await agentGit(["checkout", "--quiet", "-b", "bottle/t1/news"], other);
    await commit(other, "news.txt", "news\n");
    assert.equal((await agentGit(["push", "origin", "bottle/t1/news"], other)).code, 0);
    const fetched = await agentGit(["fetch", "origin"], dir);
    assert.equal(fetched.code, 0, fetched.stderr);
    const seen = (await agentGit(["rev-parse", "origin/bottle/t1/news"], dir)).stdout.trim();
    assert.equal(seen, bare(upstreams["app"] ?? "", "rev-parse", "refs/heads/bottle/t1/news"));
    assert.equal(audit.findLast((e) => e.op === "fetch")?.verdict, "allow");
  });
});
