/**
 * What leaves for the upstream when the agent hand-builds the pack of its push: the gate in front
 * of a real sshd, driven on the wire (a receive-pack request written by the test: ref updates and a
 * pack made with git pack-objects), as a malicious agent would.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { BackgroundScanner } from "../../src/sidecar/dlp/background-scanner.js";
import type { GitAuditEntry } from "../../src/sidecar/git/git-audit.js";
import { GitGate } from "../../src/sidecar/git/git-gate.js";
import { pushUpstream } from "../../src/sidecar/git/upstream-push.js";
import { UpstreamCredentials } from "../../src/sidecar/git/upstream-credentials.js";
import type { SshUpstream } from "../helpers/sshd.js";
import { startSshd } from "../helpers/sshd.js";

const ZERO = "0".repeat(40);
const FAKE_TOKEN = ["ghp", "_", "FAKEtokenFORtests0123456789abcdefghij".slice(0, 36)].join("");
const policy = {
  branches: ["bottle/t1/*", "refs/tags/*"],
  force: false,
  delete: false,
  max_size_bytes: 1 << 22,
};

function git(dir: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync("git", ["--git-dir", dir, ...args], {
    ...(input === undefined ? {} : { input }),
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "a",
      GIT_AUTHOR_EMAIL: "a@b.test",
      GIT_COMMITTER_NAME: "a",
      GIT_COMMITTER_EMAIL: "a@b.test",
    },
  });
}
const gitText = (dir: string, args: string[], input?: string): string =>
  git(dir, args, input).toString("utf8").trim();

function has(dir: string, oid: string): boolean {
  try {
    git(dir, ["cat-file", "-e", oid]);
    return true;
  } catch {
    return false;
  }
}

function pkt(line: string): Buffer {
  const body = Buffer.from(line);
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, "0")), body]);
}

describe("git gate: the pack that goes upstream", () => {
  let sshd: SshUpstream;
  let tmp: string;
  let gate: GitGate;
  let scanner: BackgroundScanner;
  let credentials: UpstreamCredentials;
  let upstream: string;
  /** The agent's repository: a bare clone of the upstream, where the test writes objects. */
  let work: string;
  let main: string;
  const audit: GitAuditEntry[] = [];

  /** A commit on main adding `file` with `content`. */
  function commitOnMain(file: string, content: string): string {
    const blob = gitText(work, ["hash-object", "-w", "--stdin"], content);
    const tree = gitText(work, ["mktree"], `100644 blob ${blob}\t${file}\n`);
    return gitText(work, ["commit-tree", tree, "-p", main, "-m", `add ${file}`]);
  }

  /**
   * Sends one receive-pack request, on a connection of its own (a kept-alive one may be closed
   * by the gate's idle timeout just as it is reused, while the test's git runs); the report.
   */
  async function push(commands: string[], pack: Buffer): Promise<string> {
    const lines = commands.map((c, i) => pkt(`${c}${i === 0 ? "\0report-status" : ""}\n`));
    const body = Buffer.concat([...lines, Buffer.from("0000"), pack]);
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const request = http.request(
          {
            host: "127.0.0.1",
            port: gate.address(),
            path: "/app/git-receive-pack",
            method: "POST",
            agent: false,
            headers: {
              "content-type": "application/x-git-receive-pack-request",
              "content-length": body.length,
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => {
              chunks.push(chunk);
            });
            response.on("end", () => {
              resolve({
                status: response.statusCode ?? 0,
                text: Buffer.concat(chunks).toString("utf8"),
              });
            });
            response.on("error", reject);
          },
        );
        request.on("error", reject);
        request.end(body);
      },
    );
    assert.equal(status, 200);
    return text;
  }

  /** A pack of exactly these objects. */
  const packOf = (oids: string[]): Buffer =>
    git(work, ["pack-objects", "--stdout", "-q"], `${oids.join("\n")}\n`);
  const objectsOf = (tip: string): string[] =>
    gitText(work, ["rev-list", "--objects", tip, `^${main}`])
      .split("\n")
      .map((line) => line.split(" ")[0] ?? "");

  before(async () => {
    sshd = await startSshd();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-git-pack-"));
    upstream = sshd.createBareRepo("app");
    work = path.join(tmp, "work.git");
    execFileSync("git", ["init", "--quiet", "--bare", "-b", "main", work]);
    const blob = gitText(work, ["hash-object", "-w", "--stdin"], "seed\n");
    const tree = gitText(work, ["mktree"], `100644 blob ${blob}\tREADME\n`);
    main = gitText(work, ["commit-tree", tree, "-m", "seed"]);
    git(work, ["update-ref", "refs/heads/main", main]);
    execFileSync("git", ["--git-dir", work, "push", "--quiet", sshd.url("app"), "main"], {
      env: { ...process.env, GIT_SSH_COMMAND: sshd.sshCommand(), GIT_CONFIG_GLOBAL: "/dev/null" },
    });
    credentials = new UpstreamCredentials({ app: sshd.knownHostsLine });
    credentials.set({ app: { identityKey: fs.readFileSync(sshd.identityFile, "utf8") } });
    scanner = new BackgroundScanner({ ownSecrets: [] });
    gate = new GitGate({
      repos: [{ name: "app", upstream: sshd.url("app"), push: policy }],
      mirrorDir: path.join(tmp, "mirrors"),
      upstreamEnv: (name) => credentials.env(name),
      scan: (text, where) => scanner.scan(text, where),
      dlp: "block",
      audit: (entry) => audit.push(entry),
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    // The mirror is made by the first advertisement, as for a clone.
    const refs = await fetch(
      `http://127.0.0.1:${gate.address()}/app/info/refs?service=git-receive-pack`,
    );
    assert.equal(refs.status, 200);
    await refs.arrayBuffer();
  });

  after(async () => {
    await gate.stop();
    await scanner.close();
    credentials.close();
    await sshd.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("sends upstream only what the pushed ref reaches: an extra blob in the pack stays behind", async () => {
    const tip = commitOnMain("work.txt", "the agent's work\n");
    const orphan = gitText(work, ["hash-object", "-w", "--stdin"], `smuggled ${FAKE_TOKEN}\n`);
    const report = await push(
      [`${ZERO} ${tip} refs/heads/bottle/t1/extra`],
      packOf([...objectsOf(tip), orphan]),
    );
    assert.match(report, /ok refs\/heads\/bottle\/t1\/extra/);
    assert.equal(gitText(upstream, ["rev-parse", "refs/heads/bottle/t1/extra"]), tip);
    assert.equal(has(upstream, orphan), false, "the unreachable blob reached the upstream");
  });

  it("sends upstream only what the pushed ref reaches: an extra commit and tree stay behind", async () => {
    const tip = commitOnMain("more.txt", "more work\n");
    const hidden = commitOnMain("hidden.txt", `hidden ${FAKE_TOKEN}\n`);
    const report = await push(
      [`${ZERO} ${tip} refs/heads/bottle/t1/more`],
      packOf([...objectsOf(tip), ...objectsOf(hidden)]),
    );
    assert.match(report, /ok refs\/heads\/bottle\/t1\/more/);
    for (const oid of objectsOf(hidden)) assert.equal(has(upstream, oid), false, oid);
  });

  it("sends nothing when the upstream's ref is not where the push says: no blob of it lands", async () => {
    // Someone else made the branch upstream after the gate's mirror last saw the upstream.
    const theirs = commitOnMain("theirs.txt", "theirs\n");
    execFileSync(
      "git",
      [
        "--git-dir",
        work,
        "push",
        "--quiet",
        sshd.url("app"),
        `${theirs}:refs/heads/bottle/t1/race`,
      ],
      {
        env: { ...process.env, GIT_SSH_COMMAND: sshd.sshCommand(), GIT_CONFIG_GLOBAL: "/dev/null" },
      },
    );
    const blob = gitText(work, ["hash-object", "-w", "--stdin"], "first push of mine\n");
    const tree = gitText(work, ["mktree"], `100644 blob ${blob}\tmine.txt\n`);
    const tip = gitText(work, ["commit-tree", tree, "-p", main, "-m", "mine"]);
    const report = await push([`${ZERO} ${tip} refs/heads/bottle/t1/race`], packOf(objectsOf(tip)));
    assert.match(report, /ng refs\/heads\/bottle\/t1\/race .*moved/);
    assert.equal(gitText(upstream, ["rev-parse", "refs/heads/bottle/t1/race"]), theirs);
    assert.equal(has(upstream, blob), false, "the refused push's blob reached the upstream");
    assert.equal(has(upstream, tip), false);
  });

  it("leaves nothing upstream when the upstream's pre-receive hook refuses the push", async () => {
    const hook = path.join(upstream, "hooks", "pre-receive");
    fs.writeFileSync(hook, "#!/bin/sh\necho 'upstream policy: no' >&2\nexit 1\n", { mode: 0o755 });
    try {
      const tip = commitOnMain("hooked.txt", "refused by the hook\n");
      const blob = gitText(work, ["rev-parse", `${tip}:hooked.txt`]);
      const report = await push(
        [`${ZERO} ${tip} refs/heads/bottle/t1/hooked`],
        packOf(objectsOf(tip)),
      );
      assert.match(report, /ng refs\/heads\/bottle\/t1\/hooked/);
      assert.equal(has(upstream, blob), false);
    } finally {
      fs.rmSync(hook);
    }
  });

  it("refuses funny ref names itself, with git's rules, and sends nothing upstream", async () => {
    const tip = commitOnMain("funny.txt", "funny\n");
    for (const ref of [
      "refs/heads/bottle/t1/..",
      "refs/heads/bottle/t1/x.lock",
      "refs/heads/bottle/t1/@{-1}",
      "refs/heads/bottle/t1/a..b",
      "refs/heads/bottle/t1/x.",
      "refs/heads/bottle/t1/a\x01b",
    ]) {
      const report = await push([`${ZERO} ${tip} ${ref}`], packOf(objectsOf(tip)));
      assert.match(report, /refused by the gate: .*not a valid ref name/, ref);
    }
    assert.equal(has(upstream, tip), false);
  });

  it("tells each ref of a refused push what was wrong with that ref", async () => {
    const tip = commitOnMain("two.txt", "two refs\n");
    const report = await push(
      [`${ZERO} ${tip} refs/heads/bottle/t1/fine`, `${main} ${tip} refs/heads/main`],
      packOf(objectsOf(tip)),
    );
    const line = (ref: string) =>
      report.split("\n").find((l) => l.includes(`ng ${ref} `)) ?? `no line for ${ref}`;
    assert.match(line("refs/heads/main"), /main is protected/);
    assert.doesNotMatch(line("refs/heads/bottle/t1/fine"), /protected/);
    assert.match(
      line("refs/heads/bottle/t1/fine"),
      /bottle\/t1\/fine itself is allowed, but was not sent: .*another ref was refused \(main\)/,
    );
    assert.equal(has(upstream, tip), false);
  });

  it("by git push too (https, older servers): a ref the upstream moved gets nothing sent", async () => {
    const theirs = commitOnMain("theirs2.txt", "theirs again\n");
    const ref = "refs/heads/bottle/t1/race2";
    git(work, ["update-ref", ref, theirs]);
    execFileSync("git", ["--git-dir", work, "push", "--quiet", sshd.url("app"), ref], {
      env: { ...process.env, GIT_SSH_COMMAND: sshd.sshCommand(), GIT_CONFIG_GLOBAL: "/dev/null" },
    });
    const blob = gitText(work, ["hash-object", "-w", "--stdin"], "mine, by git push\n");
    const tree = gitText(work, ["mktree"], `100644 blob ${blob}\tmine2.txt\n`);
    // A descendant of theirs: a fast-forward upstream, but not of what the agent saw (no ref).
    const tip = gitText(work, ["commit-tree", tree, "-p", theirs, "-m", "mine"]);
    const result = await pushUpstream(
      { ...credentials.env("app"), GIT_DIR: work },
      sshd.url("app"),
      [{ ref, old: ZERO, new: tip, fastForward: true }],
    );
    assert.notEqual(result.refs[0]?.error ?? null, null);
    assert.equal(gitText(upstream, ["rev-parse", ref]), theirs);
    assert.equal(has(upstream, blob), false);
  });

  it("refuses on the wire a push whose tag or commit header carries a token; nothing lands", async () => {
    const t = gitText(work, ["rev-parse", `${main}^{tree}`]);
    const raw =
      `tree ${t}\nparent ${main}\nauthor ${FAKE_TOKEN} <a@b.test> 1 +0000\n` +
      `committer a <a@b.test> 1 +0000\n\nplain\n`;
    const byAuthor = gitText(work, ["hash-object", "-t", "commit", "-w", "--stdin"], raw);
    const authored = await push(
      [`${ZERO} ${byAuthor} refs/heads/bottle/t1/author`],
      packOf([byAuthor]),
    );
    assert.match(authored, /refused by the gate: it adds what looks like a secret/);
    assert.equal(has(upstream, byAuthor), false);
    const tip = commitOnMain("tagged.txt", "tagged\n");
    const tag = gitText(
      work,
      ["hash-object", "-t", "tag", "-w", "--stdin"],
      `object ${tip}\ntype commit\ntag v1\ntagger a <a@b.test> 1 +0000\n\n${FAKE_TOKEN}\n`,
    );
    const tagged = await push([`${ZERO} ${tag} refs/tags/v1`], packOf([tag, ...objectsOf(tip)]));
    assert.match(tagged, /ng refs\/tags\/v1 refused by the gate: it adds what looks like a secret/);
    assert.equal(has(upstream, tag), false);
  });
});
