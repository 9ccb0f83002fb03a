/**
 * The egress gate from inside a real bottle: an HTTPS upstream (a container of the test's own, on
 * the bottle's network, with a certificate from a test CA the sidecar is told to trust) is reached
 * by curl, git, Node fetch and Python urllib with no certificate flag: they trust the bottle's CA,
 * installed at start. The bottle's own token, raw or base64, is refused, and so is fronting.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { pack as packFolder } from "tar-fs";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { cliProcess } from "../helpers/cli.js";
import { BASE_IMAGE, bottleExec, docker, dockerSandbox, startDetached } from "../helpers/docker.js";

const TOKEN = "bb-fake-token-0123456789abcdefFAKE";

const manifest = `agents:
  sh:
    bottle: box
    provider: shell
bottles:
  box:
    resources: {memory: 512m, cpus: 1, pids: 256}
    egress:
      allow: [{host: secure.test, internal: true}]
    credentials:
      - {name: api, path: /api, upstream: "https://secure.test", token: {env: BB_TEST_TOKEN}}
`;

/** Serves /repo.git/* from /srv (git's dumb HTTP) and echoes everything else. */
const SERVER = `
const fs = require("fs"), https = require("https");
https.createServer({ key: process.env.TLS_KEY, cert: process.env.TLS_CERT }, (q, s) => {
  if (q.url.startsWith("/repo.git/")) {
    fs.readFile("/srv" + q.url.split("?")[0], (err, data) => {
      if (err) { s.statusCode = 404; s.end(); } else s.end(data);
    });
    return;
  }
  s.end("upstream saw " + q.method + " " + q.headers.host + q.url + "\\n");
}).listen(443, () => console.log("tls upstream ready"));
`;

function makeRepo(dir: string): string {
  const work = path.join(dir, "work");
  const git = (args: string[], cwd = work): void => {
    execFileSync("git", args, { cwd, stdio: "ignore" });
  };
  fs.mkdirSync(work, { recursive: true });
  git(["init", "-q", "-b", "main"]);
  fs.writeFileSync(path.join(work, "README"), "hello from the upstream\n");
  git(["add", "README"]);
  git(["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "first commit"]);
  const bare = path.join(dir, "srv", "repo.git");
  git(["clone", "-q", "--bare", work, bare], dir);
  git(["update-server-info"], bare);
  return path.join(dir, "srv");
}

describe("egress gate with TLS interception, from inside a bottle", () => {
  it("curl, git, Node and Python reach an intercepted host; own token and fronting are refused", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-egress-tls-"));
    const upstreamCa = await createBottleCa("it-upstream");
    const leaf = await new LeafCertificates(upstreamCa).issuePem("secure.test");
    const caFile = path.join(tmp, "upstream-ca.pem");
    fs.writeFileSync(caFile, upstreamCa.certPem);

    const box = dockerSandbox(manifest);
    box.env["BOT_BOTTLE_UPSTREAM_CA"] = caFile;
    box.env["BB_TEST_TOKEN"] = TOKEN;
    const identity = await startDetached(box);
    const network = `bot-bottle-${identity}-net`;
    const upstream = await docker.createContainer({
      Image: BASE_IMAGE,
      Cmd: ["node", "-e", SERVER],
      Env: [`TLS_KEY=${leaf.key}`, `TLS_CERT=${leaf.cert}`],
      Labels: { "bot-bottle.test": "upstream" },
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ["secure.test"] } } },
    });
    try {
      await upstream.putArchive(packFolder(makeRepo(tmp)) as unknown as NodeJS.ReadableStream, {
        path: "/srv",
      });
      await upstream.start();

      const run = async (command: string): Promise<string> => {
        const result = await bottleExec(box, identity, command);
        assert.equal(result.code, 0, `${command}\n${result.stderr}`);
        return result.stdout;
      };
      assert.match(
        await run("curl -sS https://secure.test/curl"),
        /upstream saw GET secure\.test\/curl/,
      );
      assert.match(
        await run(
          "git clone -q https://secure.test/repo.git /tmp/r && git -C /tmp/r log --format=%s",
        ),
        /first commit/,
      );
      assert.match(
        await run(
          `node -e "fetch('https://secure.test/node').then(r => r.text()).then(t => process.stdout.write(t))"`,
        ),
        /upstream saw GET secure\.test\/node/,
      );
      assert.match(
        await run(
          `python3 -c "import urllib.request; print(urllib.request.urlopen('https://secure.test/py').read().decode())"`,
        ),
        /upstream saw GET secure\.test\/py/,
      );

      const status = (args: string): Promise<string> =>
        run(`curl -s -o /dev/null -w '%{http_code}' ${args}`);
      assert.equal(await status(`"https://secure.test/q?k=${TOKEN}"`), "403");
      const encoded = Buffer.from(TOKEN).toString("base64");
      assert.equal(await status(`-H "X-Data: ${encoded}" https://secure.test/h`), "403");
      assert.equal(
        await status(`"https://secure.test/split?a=${TOKEN.slice(0, 12)}&b=${TOKEN.slice(12)}"`),
        "403",
      );
      assert.equal(await status(`-H "Host: other.test" https://secure.test/`), "403");
      assert.equal(await status("https://secure.test/still-fine"), "200");

      // The bottle's CA is trusted inside, and its key is not there.
      assert.match(
        await run("grep -c 'BEGIN CERTIFICATE' /usr/local/share/ca-certificates/bot-bottle.crt"),
        /^1/,
      );
      const keys = await bottleExec(
        box,
        identity,
        "grep -rl 'PRIVATE KEY' /etc/ssl /usr/local/share 2>/dev/null",
      );
      assert.equal(keys.stdout.trim(), "");

      const logs = await cliProcess(["logs", identity, "--egress", "--json"], box);
      assert.ok(!logs.stdout.includes(TOKEN), "the token is never in the audit log");
      const entries = logs.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { rule: string | null; finding?: string });
      assert.ok(entries.some((e) => e.rule === "dlp:own-secret"));
      assert.ok(entries.some((e) => e.rule === "domain-fronting"));
    } finally {
      await upstream.remove({ force: true });
      await cliProcess(["stop", identity], box);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
