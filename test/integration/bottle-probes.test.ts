/**
 * A real bottle, probed from inside through `bottle exec`: invariants 1 (no network), 5 (least
 * privilege) and the egress gate's first form, under runsc (gVisor) and under runc.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  objectsOf,
  shellManifest,
  startDetached,
  startUpstream,
  waitFor,
} from "../helpers/docker.js";

interface AuditLine {
  host: string;
  verdict: string;
  rule: string | null;
  path?: string;
}

for (const runtime of ["runsc", "runc"] as const) {
  describe(`a bottle under ${runtime}`, () => {
    let box: Sandbox;
    let identity: string;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;

    before(async () => {
      box = dockerSandbox(shellManifest({ runtime: runtime === "runsc" ? "auto" : "runc" }));
      identity = await startDetached(box);
      upstream = await startUpstream(`bot-bottle-${identity}-net`, [
        "allowed.test",
        "other.test",
        "blocked.allowed.test",
      ]);
    });

    after(async () => {
      await upstream.remove();
      await cliProcess(["stop", identity], box);
    });

    it(`runs the agent under ${runtime}`, async () => {
      const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
      assert.equal(info.HostConfig.Runtime, runtime);
      assert.equal(info.HostConfig.NetworkMode, "none");
    });

    it("has only a loopback interface", async () => {
      // /proc/net/dev lists interfaces under both runtimes; gVisor's /sys is not readable.
      const fromProc = await bottleExec(
        box,
        identity,
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
      );
      assert.equal(fromProc.code, 0, fromProc.stderr);
      assert.deepEqual(fromProc.stdout.trim().split(/\s+/), ["lo"]);
      const fromSys = await bottleExec(
        box,
        identity,
        "ls /sys/class/net 2>/dev/null || echo no-sysfs",
      );
      assert.ok(["lo", "no-sysfs"].includes(fromSys.stdout.trim()), fromSys.stdout);
      if (runtime === "runc") assert.equal(fromSys.stdout.trim(), "lo");
    });

    it("cannot resolve names", async () => {
      const result = await bottleExec(
        box,
        identity,
        "getent hosts allowed.test; getent hosts example.com",
      );
      assert.notEqual(result.code, 0);
      assert.equal(result.stdout.trim(), "");
    });

    it("cannot open a direct TCP connection to another host", async () => {
      const script = `const s=require("net").connect(80,"${upstream.ip}");s.setTimeout(3000);s.on("connect",()=>{console.log("CONNECTED");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(1)});s.on("timeout",()=>{console.log("TIMEOUT");process.exit(1)})`;
      const result = await bottleExec(box, identity, `node -e '${script}'`);
      assert.notEqual(result.code, 0);
      assert.doesNotMatch(result.stdout, /CONNECTED/);
    });

    it("runs as a non-root user with no capabilities and no-new-privileges", async () => {
      // prctl(PR_GET_NO_NEW_PRIVS) asks the kernel (or gVisor's Sentry) directly; gVisor's
      // /proc/self/status has no NoNewPrivs line, runc's has one, and it must say 1 too.
      const prctl = `python3 -c 'import ctypes; print(ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))'`;
      const result = await bottleExec(
        box,
        identity,
        `id -u; grep '^CapEff:' /proc/self/status; ${prctl}; grep '^NoNewPrivs:' /proc/self/status || echo NoNewPrivs: absent`,
      );
      assert.equal(result.code, 0, result.stderr);
      const [uid, capEff, prctlNoNewPrivs, statusLine] = result.stdout.trim().split("\n");
      assert.notEqual(uid, "0");
      assert.match(capEff ?? "", /^CapEff:\s+0+$/);
      assert.equal(prctlNoNewPrivs, "1");
      assert.match(
        statusLine ?? "",
        runtime === "runc" ? /^NoNewPrivs:\s+1$/ : /^NoNewPrivs:\s+(1|absent)$/,
      );
    });

    it("has no Docker socket anywhere", async () => {
      const result = await bottleExec(
        box,
        identity,
        "find / -xdev \\( -name docker.sock -o -name 'docker*.sock' \\) 2>/dev/null; ls -la /var/run/docker.sock /run/docker.sock 2>&1 || true",
      );
      assert.doesNotMatch(result.stdout, /^[^l].*docker\.sock$/m);
      assert.doesNotMatch(result.stdout, /^srw/m);
    });

    it("reaches an allowed host through the proxy and is refused elsewhere, both audited", async () => {
      const allowed = await bottleExec(
        box,
        identity,
        "curl -sS -w '\\n%{http_code}' http://allowed.test/hello?token=abc",
      );
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /upstream saw GET allowed\.test\/hello\?token=abc\n+200$/);

      const denied = await bottleExec(box, identity, "curl -sS -D - http://other.test/secret-path");
      assert.match(denied.stdout, /^HTTP\/1\.1 403/);
      assert.match(denied.stdout, /x-bot-bottle-denied: /i);
      assert.match(denied.stdout, /other\.test/);

      const deniedWins = await bottleExec(
        box,
        identity,
        "curl -sS -o /dev/null -w '%{http_code}' http://blocked.allowed.test/",
      );
      assert.equal(deniedWins.stdout, "403");

      const auditFile = path.join(
        box.env["BOT_BOTTLE_HOME"] ?? "",
        "state",
        identity,
        "audit",
        "egress.jsonl",
      );
      // The gate answers first and appends the audit line after: wait for all three lines.
      const hosts = ["allowed.test", "other.test", "blocked.allowed.test"];
      const lines = await waitFor("the three requests' audit lines", () => {
        const text = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, "utf8") : "";
        // Only whole lines (a line being appended has no newline yet).
        const read = text
          .split("\n")
          .slice(0, -1)
          .map((l) => JSON.parse(l) as AuditLine);
        return Promise.resolve(
          hosts.every((h) => read.some((l) => l.host === h)) ? read : undefined,
        );
      });
      const allowedLine = lines.find((l) => l.host === "allowed.test");
      const deniedLine = lines.find((l) => l.host === "other.test");
      assert.equal(allowedLine?.verdict, "allow");
      assert.equal(allowedLine.path, "/hello");
      assert.equal(deniedLine?.verdict, "deny");
      assert.equal(lines.find((l) => l.host === "blocked.allowed.test")?.verdict, "deny");
    });

    it("passes the exit code of the command through", async () => {
      const result = await bottleExec(box, identity, "exit 7");
      assert.equal(result.code, 7);
    });

    it("lists the bottle as running and healthy", async () => {
      const result = await cliProcess(["list", "--json"], box);
      const entry = (
        JSON.parse(result.stdout) as {
          identity: string;
          status: string;
          health: string;
          runtime: string;
        }[]
      ).find((b) => b.identity === identity);
      assert.deepEqual(entry && [entry.status, entry.health, entry.runtime], [
        "running",
        "healthy",
        runtime,
      ]);
    });

    it("labels every object it created", async () => {
      assert.deepEqual(await objectsOf(identity), { containers: 2, networks: 1, volumes: 1 });
    });
  });
}
