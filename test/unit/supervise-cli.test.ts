/**
 * The operator's supervise commands against bottle state made without Docker: requests filed the
 * way the sidecar files them (request-store.ts), a running bottle's control socket served by the
 * real ControlServer (rules and push branches in memory, as the sidecar holds them).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileRequest } from "../../src/core/requests/request-store.js";
import { packageRoot } from "../../src/core/host/package-root.js";
import { applyApproval, previewApproval } from "../../src/operator/approve.js";
import { isBottleError } from "../../src/core/errors.js";
import { runCli } from "../../src/cli/program.js";
import { cli, makeSandbox } from "../helpers/cli.js";
import { fakeBottle, fakeSidecar } from "../helpers/bottle-state.js";

const MANIFEST = `agents:
  coder:
    bottle: box
    provider: shell
bottles:
  box:
    egress:
      allow: [{host: api.github.com, methods: [GET]}]
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.anthropic.com", token: {env: ANTHROPIC_API_KEY}}
    git:
      - {name: app, upstream: "https://git.example.com/me/app.git", token: {env: GIT_TOKEN}, push: {branches: ["bottle/*"]}}
    supervise: true
`;

function egress(
  host: string,
  more: { methods?: string[]; paths?: string[]; ports?: number[] } = {},
) {
  return {
    kind: "egress" as const,
    egress: {
      host,
      ports: more.ports ?? null,
      methods: more.methods ?? null,
      paths: more.paths ?? null,
    },
  };
}

function decisionsLog(dir: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(dir, "audit", "decisions.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("bottle requests / approve / deny", () => {
  it("lists pending requests across bottles, pending first; --all adds decided ones", async () => {
    const box = makeSandbox();
    const a = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const b = await fakeBottle(box, MANIFEST, "coder", "stopped");
    // Filed a second apart: the listing's order (first seen) must not rest on the clock's grain.
    const t0 = Date.now();
    const r1 = fileRequest(
      a.requestsDir,
      a.identity,
      egress("one.test"),
      "first",
      new Date(t0),
    ).request;
    const r2 = fileRequest(
      b.requestsDir,
      b.identity,
      egress("two.test"),
      "second",
      new Date(t0 + 1000),
    ).request;
    fileRequest(a.requestsDir, a.identity, egress("one.test", { methods: ["GET"] }), "again");
    const list = await cli(["requests"], box);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split("\n");
    assert.match(
      lines[1] ?? "",
      new RegExp(`${r1.id} .*${a.identity}.*pending.*egress one\\.test .*2 `),
    );
    assert.match(lines[2] ?? "", new RegExp(`${r2.id} .*${b.identity}`));
    assert.equal((await cli(["deny", r2.id, "--reason", "not needed"], box)).code, 0);
    assert.doesNotMatch((await cli(["requests"], box)).stdout, new RegExp(r2.id));
    const all = await cli(["requests", "--all", "--json"], box);
    const views = JSON.parse(all.stdout) as { request: { id: string }; status: string }[];
    assert.deepEqual(
      views.map((v) => [v.request.id, v.status]),
      [
        [r1.id, "pending"],
        [r2.id, "denied"],
      ],
    );
    const only = JSON.parse(
      (await cli(["requests", b.identity, "--all", "--json"], box)).stdout,
    ) as unknown[];
    assert.equal(only.length, 1);
  });

  it("approves on a stopped bottle: shown with flags, saved for resume, decision and audit written", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const { request } = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      egress("api.github.com", { methods: ["GET", "POST"], paths: ["/repos/"] }),
      "open an issue",
    );
    const refused = await cli(["approve", request.id], box);
    assert.equal(refused.code, 2, "no terminal to ask on, no --yes");
    assert.match(refused.stderr, /Confirmation needed/);
    const run = await cli(
      ["approve", request.id, "--for", "1h", "--methods", "POST", "--yes"],
      box,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /host +api\.github\.com/);
    assert.match(run.stderr, /methods +POST/);
    assert.match(run.stderr, /paths +\/repos\/…/);
    assert.match(run.stderr, /! write-on-read-only:/);
    assert.match(run.stderr, /from the bottle's next resume/);
    assert.match(
      run.stdout,
      /approved r-[0-9a-f]+ \(for\): saved; in force from the bottle's next resume/,
    );
    assert.match(
      run.stdout,
      new RegExp(`bottle policy remove ${bottle.identity} --request ${request.id}`),
    );

    const saved = JSON.parse(fs.readFileSync(path.join(bottle.dir, "policy.json"), "utf8")) as {
      allow: Record<string, unknown>[];
    };
    const rule = saved.allow.find((r) => r["request_id"] === request.id);
    assert.ok(rule !== undefined);
    assert.deepEqual(rule["methods"], ["POST"]);
    assert.equal(rule["source"], "request");
    assert.match(String(rule["added_by"]), /^cli:/);
    assert.ok(Date.parse(String(rule["expires_at"])) > Date.now() + 3_500_000);
    assert.ok(
      saved.allow.some((r) => r["source"] === "manifest"),
      "the manifest's rule stays",
    );

    const decision = JSON.parse(
      fs.readFileSync(path.join(bottle.requestsDir, `${request.id}.decision.json`), "utf8"),
    ) as Record<string, unknown>;
    assert.equal(decision["status"], "approved");
    assert.equal(decision["scope"], "for");
    const [entry] = decisionsLog(bottle.dir);
    assert.equal(entry?.["request_id"], request.id);
    assert.deepEqual(entry["flags"], ["write-on-read-only"]);
    assert.equal(entry["effect"], "on-resume");

    const listed = await cli(["policy", "list", bottle.identity], box);
    assert.match(
      listed.stdout,
      new RegExp(
        `api\\.github\\.com  POST  paths /repos/  \\(request ${request.id}, by cli:\\S+ at \\S+Z, until \\S+Z\\)`,
      ),
    );
    assert.match(listed.stdout, /api\.github\.com {2}GET {2}\(manifest\)/);

    const again = await cli(["approve", request.id, "--yes"], box);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already approved/);

    const removed = await cli(["policy", "remove", bottle.identity, "--request", request.id], box);
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch((await cli(["policy", "list", bottle.identity], box)).stdout, /request r-/);
  });

  it("applies live in a running bottle through its control socket", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "running");
    const sidecar = await fakeSidecar(bottle);
    try {
      const { request } = fileRequest(
        bottle.requestsDir,
        bottle.identity,
        egress("pastebin.com"),
        "x",
      );
      const run = await cli(["approve", request.id, "--once", "--yes"], box);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /! exfil-domain:/);
      assert.match(run.stderr, /lifts +the deny rule pastebin\.com/);
      assert.match(run.stdout, /in force in the running bottle now/);
      const live = sidecar.rules();
      assert.ok(live.allow.some((r) => r.request_id === request.id && r.once));
      assert.ok(!live.deny.includes("pastebin.com"));
      // What the sidecar holds is what it saved (the host wrote no policy.json of its own).
      const saved = JSON.parse(
        fs.readFileSync(path.join(bottle.dir, "policy.json"), "utf8"),
      ) as unknown;
      assert.deepEqual(saved, live);

      const push = fileRequest(
        bottle.requestsDir,
        bottle.identity,
        {
          kind: "push-branch",
          push_branch: { pattern: "feature/*", entry: null },
        },
        "a feature branch",
      ).request;
      const refusedScope = await cli(["approve", push.id, "--once", "--yes"], box);
      assert.equal(refusedScope.code, 2);
      const pushed = await cli(["approve", push.id, "--yes"], box);
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stderr, /git app: push to bottle\/\*, feature\/\* \(was bottle\/\*\)/);
      assert.deepEqual(sidecar.branches()["app"], ["bottle/*", "feature/*"]);
      const grants = JSON.parse(
        fs.readFileSync(path.join(bottle.dir, "push-grants.json"), "utf8"),
      ) as {
        grants: { pattern: string; request_id: string }[];
      };
      assert.deepEqual(
        grants.grants.map((g) => [g.pattern, g.request_id]),
        [["feature/*", push.id]],
      );
    } finally {
      await sidecar.stop();
    }
  });

  it("a running bottle whose sidecar does not answer: nothing is saved or decided", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "running");
    const { request } = fileRequest(bottle.requestsDir, bottle.identity, egress("a.test"), "x");
    const run = await cli(["approve", request.id, "--yes"], box);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /does not answer/);
    assert.ok(!fs.existsSync(path.join(bottle.dir, "policy.json")));
    assert.ok(!fs.existsSync(path.join(bottle.requestsDir, `${request.id}.decision.json`)));
  });

  it("refuses to approve what changed since it was shown, and shows it again", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const { request } = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      egress("a.test", { methods: ["GET"] }),
      "x",
    );
    const preview = await previewApproval(
      { env: box.env, home: box.home, cwd: box.cwd },
      request.id,
      {},
      "cli:test",
    );
    // The agent asks again, wider, while the operator looks.
    fileRequest(bottle.requestsDir, bottle.identity, egress("a.test", { methods: ["POST"] }), "x");
    await assert.rejects(
      applyApproval({ env: box.env, home: box.home, cwd: box.cwd }, preview),
      (error: unknown) => isBottleError(error) && error.code === "request_changed",
    );
    assert.ok(!fs.existsSync(path.join(bottle.dir, "policy.json")), "nothing granted");
    // The CLI, asked again, shows the new revision.
    const run = await cli(["approve", request.id, "--yes"], box);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /revision 2/);
    assert.match(run.stderr, /methods +GET, POST/);
  });

  it("asks y/N; a request widened while the operator answers is refused and shown again", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const { request } = fileRequest(
      bottle.requestsDir,
      bottle.identity,
      egress("a.test", { methods: ["GET"] }),
      "x",
    );
    let out = "";
    let err = "";
    const run = (confirm: (q: string) => Promise<boolean>) =>
      runCli(["approve", request.id], {
        host: { env: box.env, home: box.home, cwd: box.cwd },
        io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
        confirm,
      });
    assert.equal(await run(() => Promise.resolve(false)), 1, "answered no");
    assert.match(err, /Not approved; nothing changed/);
    err = "";
    const code = await run((question) => {
      assert.equal(question, "Approve?");
      // The agent asks again, wider, while the question is open.
      fileRequest(
        bottle.requestsDir,
        bottle.identity,
        egress("a.test", { methods: ["DELETE"] }),
        "x",
      );
      return Promise.resolve(true);
    });
    assert.equal(code, 1);
    assert.match(err, /methods +GET\n[\s\S]*changed since it was shown \(revision 1, now 2\)/);
    assert.match(err, /It now reads:\n[\s\S]*revision 2[\s\S]*methods +DELETE, GET/);
    assert.ok(!fs.existsSync(path.join(bottle.dir, "policy.json")), "nothing granted");
    assert.equal(out, "");
  });

  it("deny writes the reason for the agent and the audit; unknown ids are clear errors", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "stopped");
    const { request } = fileRequest(bottle.requestsDir, bottle.identity, egress("a.test"), "x");
    const run = await cli(
      ["deny", `${bottle.identity}/${request.id}`, "--reason", "use the mirror"],
      box,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /denied r-[0-9a-f]+ .*: use the mirror/);
    const decision = JSON.parse(
      fs.readFileSync(path.join(bottle.requestsDir, `${request.id}.decision.json`), "utf8"),
    ) as Record<string, unknown>;
    assert.equal(decision["note"], "use the mirror");
    assert.equal(decisionsLog(bottle.dir)[0]?.["status"], "denied");
    const unknown = await cli(["approve", "r-ffffff", "--yes"], box);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No request r-ffffff[\s\S]*hint: `bottle requests`/);
    const bad = await cli(["approve", request.id, "--once", "--for", "1h", "--yes"], box);
    assert.equal(bad.code, 2);
  });

  it("--watch prints a new request as one line with a bell within a second", async () => {
    const box = makeSandbox();
    const bottle = await fakeBottle(box, MANIFEST, "coder", "running");
    const child = spawn(
      process.execPath,
      [path.join(packageRoot(), "bin", "bottle.js"), "requests", "--watch"],
      {
        cwd: box.cwd,
        env: box.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
      const until = async (test: () => boolean, ms: number): Promise<boolean> => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          if (test()) return true;
          await new Promise((r) => setTimeout(r, 20));
        }
        return test();
      };
      assert.ok(await until(() => err.includes("Watching"), 10_000), err);
      const filedAt = Date.now();
      const { request } = fileRequest(
        bottle.requestsDir,
        bottle.identity,
        egress("new.test"),
        "need it",
      );
      assert.ok(await until(() => out.includes(request.id), 1000), `shown within 1 s: ${out}`);
      const took = Date.now() - filedAt;
      const line = out.split("\n").find((l) => l.includes(request.id)) ?? "";
      assert.match(
        line,
        new RegExp(
          `^\\u0007\\d\\d:\\d\\d:\\d\\d new ${request.id} ${bottle.identity}: egress new\\.test "need it"  → bottle approve ${request.id}$`,
        ),
      );
      assert.ok(took < 1000, `${took} ms`);
    } finally {
      child.kill("SIGINT");
    }
  });
});
