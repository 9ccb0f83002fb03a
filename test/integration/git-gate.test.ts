/**
 * The git gate in a real bottle: a real sshd in a container of the test's own serves bare
 * repositories; the bottle's sidecar holds the key, the agent (no network, no key) clones, commits
 * and pushes by the upstream URL through the gate. Allowed pushes land upstream; a protected
 * branch, a force push and a commit holding a token are refused with the reason, the upstream
 * unchanged; an upstream hook's refusal fails the agent's push. The key is nowhere in the agent.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import { bottleExec, demux, docker, dockerSandbox, execAsRoot } from "../helpers/docker.js";
import type { SshContainer } from "../helpers/sshd-container.js";
import { startSshdContainer } from "../helpers/sshd-container.js";

const FAKE_TOKEN = "ghp_FAKEtokenFORbotBottleTests0123456789ab";
const GIT_USER = "-c user.name=agent -c user.email=agent@bottle.test";

describe("git gate in a bottle", () => {
  let box: Sandbox;
  let sshd: SshContainer;
  let testNet: string;
  let identity = "";

  const upstreamRef = async (repo: string, ref: string): Promise<string> =>
    (
      await sshd.exec(`git --git-dir /srv/git/${repo}.git rev-parse -q --verify ${ref}`)
    ).stdout.trim();
  const agent = async (command: string) => bottleExec(box, identity, command);

  before(async () => {
    testNet = `bb-test-git-${process.pid}`;
    await docker.createNetwork({ Name: testNet, Labels: { "bot-bottle.test": "net" } });
    sshd = await startSshdContainer(testNet, "git.test");
    await sshd.createBareRepo("app");
    await sshd.createBareRepo("guarded");
    await sshd.exec(
      "printf '#!/bin/sh\\necho upstream says: not today >&2\\nexit 1\\n' > /srv/git/guarded.git/hooks/pre-receive && chmod +x /srv/git/guarded.git/hooks/pre-receive",
    );
    box = dockerSandbox(`agents:
  sh:
    bottle: box
    provider: shell
bottles:
  box:
    resources: {memory: 512m, cpus: 1, pids: 256}
    git:
      - {name: app, upstream: "${sshd.url("app")}", identity_file: "${sshd.identityFile}", host_keys: ["${sshd.knownHostsLine}"]}
      - {name: guarded, upstream: "${sshd.url("guarded")}", identity_file: "${sshd.identityFile}", host_keys: ["${sshd.knownHostsLine}"]}
`);
    // The operator's checkout names the upstream in another spelling: --cwd points it at the gate.
    execFileSync("git", ["init", "-q", box.cwd]);
    execFileSync("git", [
      "-C",
      box.cwd,
      "remote",
      "add",
      "origin",
      "ssh://git@git.test/srv/git/app",
    ]);
    const started = await cliProcess(
      ["start", "sh", "--yes", "--detach", "--cwd"],
      box,
      {},
      600_000,
    );
    assert.equal(started.code, 0, started.stderr);
    identity = started.stdout.trim();
    // The upstream joins the bottle's network under the same name, as a real host would be reachable.
    await docker
      .getNetwork(`bot-bottle-${identity}-net`)
      .connect({ Container: sshd.id, EndpointConfig: { Aliases: ["git.test"] } });
  });

  after(async () => {
    await sshd.remove();
    if (identity !== "") await cliProcess(["stop", identity], box, {}, 120_000);
    await docker.getNetwork(testNet).remove();
  });

  it("clones by the upstream URL, pushes an allowed branch, and the commit is upstream", async () => {
    const branch = `bottle/${identity}/feature`;
    const result = await agent(
      `set -e; git clone -q ${sshd.url("app")} /workspace/app; cd /workspace/app; ` +
        `git checkout -q -b ${branch}; echo work > work.txt; git add work.txt; ` +
        `git ${GIT_USER} commit -q -m work; git push -q origin ${branch}; git rev-parse HEAD`,
    );
    assert.equal(result.code, 0, result.stderr);
    const head = result.stdout.trim().split("\n").pop() ?? "";
    assert.match(head, /^[0-9a-f]{40}$/);
    assert.equal(await upstreamRef("app", `refs/heads/${branch}`), head);
  });

  it("refuses a protected branch, a force push and a token, saying why; the upstream is unchanged", async () => {
    const branch = `bottle/${identity}/feature`;
    const main = await agent(
      `cd /workspace/app && git ${GIT_USER} commit -q --allow-empty -m x && git push origin HEAD:main`,
    );
    assert.notEqual(main.code, 0);
    assert.match(main.stderr, /main is protected: this bottle may push only to bottle\//);
    assert.equal(await upstreamRef("app", "refs/heads/main"), "");

    const before = await upstreamRef("app", `refs/heads/${branch}`);
    const forced = await agent(
      `cd /workspace/app && git reset -q --hard HEAD~1 && git ${GIT_USER} commit -q --amend -m rewritten && git push --force origin HEAD:${branch}`,
    );
    assert.notEqual(forced.code, 0);
    assert.match(forced.stderr, /force pushes are not allowed/);

    const leak = await agent(
      `cd /workspace/app && echo 'token=${FAKE_TOKEN}' > .env && git add .env && git ${GIT_USER} commit -q -m env && git push origin HEAD:refs/heads/bottle/${identity}/leak`,
    );
    assert.notEqual(leak.code, 0);
    assert.match(leak.stderr, /looks like a secret \(github-token, in \.env\)/);
    assert.equal(await upstreamRef("app", `refs/heads/${branch}`), before);
    assert.equal(await upstreamRef("app", `refs/heads/bottle/${identity}/leak`), "");
  });

  it("fails the agent's push when the upstream's own hook refuses it", async () => {
    const result = await agent(
      `set -e; git clone -q ${sshd.url("guarded")} /workspace/guarded; cd /workspace/guarded; ` +
        `git ${GIT_USER} commit -q --allow-empty -m x; git push origin HEAD:refs/heads/bottle/${identity}/x`,
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /upstream says: not today/);
    assert.match(result.stderr, /pre-receive hook declined/);
  });

  it("points the --cwd checkout's remote through the gate", async () => {
    const result = await agent(
      "cd /workspace && git config remote.origin.url && git fetch -q origin && git branch -r",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${sshd.url("app")}$`, "m"));
    assert.match(result.stdout, new RegExp(`origin/bottle/${identity}/feature`));
  });

  it("keeps the key out of the agent: not in its files or any process environment", async () => {
    const keyLines = fs
      .readFileSync(sshd.identityFile, "utf8")
      .split("\n")
      .filter((line) => line.length >= 40 && !line.startsWith("-----"));
    assert.ok(keyLines.length > 0);
    const container = `bot-bottle-${identity}-agent`;
    const probe = keyLines[0] ?? "";
    const found = await execAsRoot(
      container,
      `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -print0 2>/dev/null | xargs -0 grep -lF -- '${probe}' 2>/dev/null; ` +
        `echo "environments holding it: $(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -cF -- '${probe}')"; ` +
        `test -e /home/agent/.ssh || echo "no ~/.ssh"`,
    );
    assert.doesNotMatch(found, /^\//m, `key material found in agent files:\n${found}`);
    assert.match(found, /^environments holding it: 0$/m);
    assert.match(found, /^no ~\/\.ssh$/m);
  });

  it("lets the gate's ssh run under an operator uid the sidecar image does not know", async () => {
    const sidecar = await docker.getContainer(`bot-bottle-${identity}-sidecar`).inspect();
    const script = [
      `import("/opt/bot-bottle/dist/src/sidecar/git/upstream-credentials.js").then(({ UpstreamCredentials }) => {`,
      `  const env = new UpstreamCredentials({ x: "" }).env("x");`,
      `  const run = require("child_process").spawnSync("ssh", ["-o", "BatchMode=yes", "-p", "1", "127.0.0.1", "true"], { env, encoding: "utf8" });`,
      `  process.stdout.write(run.stderr);`,
      `});`,
    ].join("\n");
    const container = await docker.createContainer({
      Image: sidecar.Image,
      User: "4242:4242",
      Entrypoint: ["node", "-e", script],
      Labels: { "bot-bottle.test": "uid" },
      HostConfig: { NetworkMode: "none" },
    });
    try {
      await container.start();
      await container.wait();
      const output = demux(await container.logs({ stdout: true, stderr: true, follow: false }));
      assert.doesNotMatch(output, /No user exists/);
      assert.match(output, /Connection refused/);
    } finally {
      await container.remove({ force: true });
    }
  });

  it("records each fetch and push with refs and verdicts, shown by bottle logs --git", async () => {
    const logs = await cliProcess(["logs", identity, "--git"], box);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /ALLOW {2}fetch {2}app/);
    assert.match(
      logs.stdout,
      new RegExp(`ALLOW  push   app  bottle/${identity}/feature \\(none\\)\\.\\.[0-9a-f]{7}`),
    );
    assert.match(
      logs.stdout,
      /DENY {3}push {3}app {2}main [0-9a-f]{7}|DENY {3}push {3}app {2}main \(none\)/,
    );
    assert.match(logs.stdout, /DENY {3}push {3}guarded .*pre-receive hook declined/);
    assert.ok(!logs.stdout.includes(FAKE_TOKEN));
  });
});
