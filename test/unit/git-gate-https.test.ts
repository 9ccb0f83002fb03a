/**
 * The git gate in front of an https upstream (git http-backend behind real TLS from a test CA):
 * the token is the sidecar's, sent as a header by the gate's git; the agent's git has none and
 * still clones and pushes. A wrong token fails the agent's clone with the upstream's refusal.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { BackgroundScanner } from "../../src/sidecar/dlp/background-scanner.js";
import { GitGate } from "../../src/sidecar/git/git-gate.js";
import { UpstreamCredentials } from "../../src/sidecar/git/upstream-credentials.js";
import type { HttpsGitUpstream } from "../helpers/https-git.js";
import { startHttpsGit } from "../helpers/https-git.js";

const TOKEN = "fake-https-token-for-tests-0123456789";
const policy = { branches: ["bottle/t1/*"], force: false, delete: false, max_size_bytes: 1 << 20 };

describe("git gate, https upstream", () => {
  let upstream: HttpsGitUpstream;
  let tmp: string;
  let gate: GitGate;
  let scanner: BackgroundScanner;
  let credentials: UpstreamCredentials;
  let agentEnv: NodeJS.ProcessEnv;

  // Asynchronous: the gate runs in this process and must keep serving while git runs.
  const agentGit = (args: string[], cwd: string) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      execFile("git", args, { cwd, env: agentEnv, encoding: "utf8" }, (error, stdout, stderr) => {
        resolve({ status: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
      });
    });

  before(async () => {
    upstream = await startHttpsGit(TOKEN);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-git-https-"));
    for (const name of ["web", "locked"]) {
      execFileSync("git", [
        "init",
        "--quiet",
        "--bare",
        "-b",
        "main",
        path.join(upstream.root, `${name}.git`),
      ]);
    }
    credentials = new UpstreamCredentials({ web: "", locked: "" }, upstream.caPem);
    credentials.set({ web: { token: TOKEN }, locked: { token: "not-the-token" } });
    scanner = new BackgroundScanner({ ownSecrets: [TOKEN] });
    gate = new GitGate({
      repos: ["web", "locked"].map((name) => ({
        name,
        upstream: upstream.url(name),
        push: policy,
      })),
      mirrorDir: path.join(tmp, "mirrors"),
      upstreamEnv: (name) => credentials.env(name),
      scan: (text, where) => scanner.scan(text, where),
      dlp: "block",
      audit: () => undefined,
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    const gitconfig = path.join(tmp, "agent.gitconfig");
    fs.writeFileSync(
      gitconfig,
      "[user]\n\tname = agent\n\temail = agent@bottle.test\n" +
        ["web", "locked"]
          .map(
            (n) =>
              `[url "http://127.0.0.1:${gate.address()}/${n}"]\n\tinsteadOf = ${upstream.url(n).replace(/\.git$/, "")}\n`,
          )
          .join(""),
    );
    agentEnv = {
      PATH: process.env["PATH"],
      HOME: tmp,
      GIT_CONFIG_GLOBAL: gitconfig,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
    };
  });

  after(async () => {
    await gate.stop();
    await scanner.close();
    credentials.close();
    await upstream.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("clones and pushes with the sidecar's token over verified TLS", async () => {
    const dir = path.join(tmp, "web");
    const cloned = await agentGit(["clone", "--quiet", upstream.url("web"), dir], tmp);
    assert.equal(cloned.status, 0, cloned.stderr);
    fs.writeFileSync(path.join(dir, "page.html"), "<p>hello</p>\n");
    await agentGit(["add", "page.html"], dir);
    await agentGit(["commit", "--quiet", "-m", "page"], dir);
    const pushed = await agentGit(["push", "origin", "HEAD:refs/heads/bottle/t1/page"], dir);
    assert.equal(pushed.status, 0, pushed.stderr);
    const head = (await agentGit(["rev-parse", "HEAD"], dir)).stdout.trim();
    const landed = execFileSync(
      "git",
      ["--git-dir", path.join(upstream.root, "web.git"), "rev-parse", "refs/heads/bottle/t1/page"],
      { encoding: "utf8" },
    ).trim();
    assert.equal(landed, head);
  });

  it("fails the agent's clone when the upstream refuses the token", async () => {
    const before = upstream.refused();
    const cloned = await agentGit(["clone", upstream.url("locked"), path.join(tmp, "locked")], tmp);
    assert.notEqual(cloned.status, 0);
    assert.match(cloned.stderr, /cannot reach the upstream of locked/);
    assert.ok(upstream.refused() > before);
    assert.ok(!cloned.stderr.includes("not-the-token"));
  });
});
