// The containerised SSH git upstream (test/helpers/sshd-container.ts) starts on a network of its
// own, listens on port 22 with the host key it was given, and makes bare repositories as `git`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { docker } from "../helpers/docker.js";
import { startSshdContainer } from "../helpers/sshd-container.js";

describe("sshd container fixture", () => {
  it("serves SSH on port 22 and creates bare repositories", async () => {
    const network = await docker.createNetwork({
      Name: `bot-bottle-test-sshd-${randomBytes(4).toString("hex")}`,
      Labels: { "bot-bottle.test": "net" },
    });
    try {
      const upstream = await startSshdContainer(network.id, "git.allowed.test");
      try {
        assert.equal(await upstream.createBareRepo("x"), "/srv/git/x.git");
        assert.equal(upstream.url("x"), "git@git.allowed.test:/srv/git/x.git");
        const bare = await upstream.exec(
          "git --git-dir /srv/git/x.git rev-parse --is-bare-repository",
        );
        assert.deepEqual([bare.code, bare.stdout.trim()], [0, "true"]);
        const key = upstream.knownHostsLine.split(" ").slice(1).join(" ");
        assert.match(upstream.knownHostsLine, /^git\.allowed\.test ssh-ed25519 AAAA/);
        const scan = await upstream.exec("ssh-keyscan -p 22 -t ed25519 127.0.0.1");
        assert.ok(scan.stdout.includes(key), scan.stderr);
      } finally {
        await upstream.remove();
      }
    } finally {
      await network.remove();
    }
  });
});
