// The loopback SSH git upstream (test/helpers/sshd.ts) is a real one: git clones and pushes
// through it with the client key, and refuses it when the host key is not the one trusted.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { startSshd } from "../helpers/sshd.js";

describe("sshd fixture", () => {
  it("serves a bare repository over SSH, and only to a client that trusts its host key", async () => {
    const upstream = await startSshd();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "bottle-sshd-client-"));
    try {
      const bare = upstream.createBareRepo("project");
      const env = {
        ...process.env,
        GIT_SSH_COMMAND: upstream.sshCommand(),
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_AUTHOR_NAME: "Test",
        GIT_AUTHOR_EMAIL: "test@example.invalid",
        GIT_COMMITTER_NAME: "Test",
        GIT_COMMITTER_EMAIL: "test@example.invalid",
      };
      const git = (...args: string[]): string =>
        execFileSync("git", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

      const clone = path.join(work, "clone");
      git("clone", "--quiet", upstream.url("project"), clone);
      fs.writeFileSync(path.join(clone, "hello.txt"), "hello\n");
      git("-C", clone, "add", "hello.txt");
      git("-C", clone, "commit", "--quiet", "-m", "first over ssh");
      git("-C", clone, "push", "--quiet", "origin", "HEAD:main");
      assert.equal(git("--git-dir", bare, "log", "--format=%s", "main").trim(), "first over ssh");

      const emptyKnownHosts = path.join(work, "empty_known_hosts");
      fs.writeFileSync(emptyKnownHosts, "");
      const refused = spawnSync("git", ["clone", upstream.url("project"), path.join(work, "no")], {
        env: {
          ...env,
          GIT_SSH_COMMAND: upstream.sshCommand().replace(upstream.knownHostsFile, emptyKnownHosts),
        },
        encoding: "utf8",
      });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /Host key verification failed/);
    } finally {
      await upstream.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
