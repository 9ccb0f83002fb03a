/**
 * The dashboard's server and API over real HTTP on 127.0.0.1, with a seeded state home: the
 * checks (401, 403), malformed actions (400, nothing changed), approve and deny through the
 * operator layer, the live feed, and the token kept out of every log.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cli } from "../helpers/cli.js";
import type { Running } from "../helpers/dashboard.js";
import {
  appendAudit,
  egressLine,
  fileEgressRequest,
  raw,
  seedBottle,
  sessionFor,
  startDashboard,
  tempHost,
} from "../helpers/dashboard.js";
import { bottlePaths } from "../../src/core/state/bottle-state.js";
import { checkBind } from "../../src/dashboard/dashboard-server.js";
import type { WirePolicy, WireRequest } from "../../src/dashboard/wire.js";

const host = tempHost();
let dash: Running;
let cookie: string;
let requestId: string;

function own(): Record<string, string> {
  return { cookie, origin: `http://127.0.0.1:${dash.port}` };
}

async function post(body: string) {
  return raw(
    dash.port,
    "POST",
    "/api/actions",
    { ...own(), "content-type": "application/json" },
    body,
  );
}

/** Every file of the state home, for "nothing changed" checks. */
function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else files.set(file, fs.readFileSync(file, "utf8"));
    }
  };
  walk(host.env["BOT_BOTTLE_HOME"] ?? "");
  return files;
}

describe("dashboard API", () => {
  before(async () => {
    seedBottle(host, "dev-aaa111");
    seedBottle(host, "dev-bbb222");
    appendAudit(host, "dev-aaa111", "egress", [egressLine("docs.example.com", "deny")]);
    requestId = fileEgressRequest(host, "dev-aaa111", "docs.example.com");
    dash = await startDashboard(host);
    cookie = await sessionFor(dash);
  });
  after(async () => {
    await dash.server.stop();
  });

  it("answers 401 without the token, 403 for another Host or Origin", async () => {
    assert.equal((await raw(dash.port, "GET", "/api/requests", {})).status, 401);
    assert.equal((await raw(dash.port, "GET", "/", {})).status, 401);
    assert.equal((await raw(dash.port, "GET", "/?token=wrong", {})).status, 401);
    const rebound = await raw(dash.port, "GET", "/api/requests", {
      cookie,
      host: `attacker.example:${dash.port}`,
    });
    assert.equal(rebound.status, 403);
    const csrf = await raw(
      dash.port,
      "POST",
      "/api/actions",
      {
        cookie,
        origin: "http://attacker.example",
        "content-type": "application/json",
      },
      JSON.stringify({ action: "deny", request: `dev-aaa111/${requestId}` }),
    );
    assert.equal(csrf.status, 403);
    const noOrigin = await raw(dash.port, "POST", "/api/actions", { cookie }, "{}");
    assert.equal(noOrigin.status, 403);
    assert.equal((await raw(dash.port, "GET", "/api/requests", { cookie })).status, 200);
    const bearer = await raw(dash.port, "GET", "/api/requests", {
      authorization: `Bearer ${dash.token}`,
    });
    assert.equal(bearer.status, 200);
  });

  it("sets an HttpOnly SameSite=Strict cookie for the token and redirects it out of the address", async () => {
    const res = await raw(dash.port, "GET", `/?token=${dash.token}`, {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.location, "/");
    const set = res.headers["set-cookie"]?.[0] ?? "";
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.ok(!set.includes(dash.token));
    const page = await raw(dash.port, "GET", "/", { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/app.js">/);
    assert.match(String(page.headers["content-security-policy"]), /default-src 'none'/);
  });

  it("refuses malformed actions with 400 and a message, and changes nothing", async () => {
    const before = snapshot();
    const bodies = [
      "not json",
      "[]",
      JSON.stringify({ action: "launch-missiles" }),
      JSON.stringify({ action: "approve", request: `dev-aaa111/${requestId}` }),
      JSON.stringify({ action: "approve", request: "../../etc/r-abcdef", revision: 1 }),
      JSON.stringify({
        action: "approve",
        request: `dev-aaa111/${requestId}`,
        revision: 1,
        scope: "forever",
      }),
      JSON.stringify({
        action: "approve",
        request: `dev-aaa111/${requestId}`,
        revision: 1,
        scope: "for",
      }),
      JSON.stringify({
        action: "approve",
        request: `dev-aaa111/${requestId}`,
        revision: 1,
        methods: ["DELETE"],
      }),
      JSON.stringify({ action: "deny", request: `dev-aaa111/${requestId}`, extra: true }),
      JSON.stringify({
        action: "deny",
        request: `dev-aaa111/${requestId}`,
        reason: "x".repeat(501),
      }),
      JSON.stringify({ action: "policy-allow", bottle: "dev-aaa111", host: "*.com" }),
      JSON.stringify({ action: "stop" }),
    ];
    for (const body of bodies) {
      const res = await post(body);
      assert.equal(res.status, 400, `${body} -> ${res.status} ${res.body}`);
      const error = (JSON.parse(res.body) as { error?: string }).error ?? "";
      assert.ok(error.length > 10, `a message for ${body}: ${res.body}`);
    }
    const unknown = await post(JSON.stringify({ action: "deny", request: "dev-aaa111/r-000000" }));
    assert.equal(unknown.status, 404);
    assert.deepEqual(snapshot(), before, "no file of the state home changed");
  });

  it("shows requests with their flags, approves the revision shown, and the rule carries its provenance", async () => {
    const list = JSON.parse(
      (await raw(dash.port, "GET", "/api/requests", { cookie })).body,
    ) as WireRequest[];
    const mine = list.find((r) => r.request.id === requestId);
    assert.equal(mine?.status, "pending");
    const ref = `dev-aaa111/${requestId}`;
    // A repeat widens the request after the operator saw revision 1: that approval is refused.
    const dir = path.join(bottlePaths(host, "dev-aaa111").dir, "requests");
    const { fileRequest } = await import("../../src/core/requests/request-store.js");
    fileRequest(
      dir,
      "dev-aaa111",
      {
        kind: "egress",
        egress: { host: "docs.example.com", ports: null, methods: ["POST"], paths: null },
      },
      "and to post",
    );
    const stale = await post(JSON.stringify({ action: "approve", request: ref, revision: 1 }));
    assert.equal(stale.status, 409, stale.body);
    const approved = await post(
      JSON.stringify({
        action: "approve",
        request: ref,
        revision: 2,
        methods: ["GET"],
        scope: "for",
        duration: "1h",
      }),
    );
    assert.equal(approved.status, 200, approved.body);
    const policy = JSON.parse(
      (await raw(dash.port, "GET", "/api/policy?bottle=dev-aaa111", { cookie })).body,
    ) as WirePolicy;
    const rule = policy.rules.allow.find((r) => r.host === "docs.example.com");
    assert.ok(rule !== undefined, "the approved rule is in force");
    assert.equal(rule.source, "request");
    assert.equal(rule.request_id, requestId);
    assert.equal(rule.added_by, "dashboard:tester");
    assert.deepEqual(rule.methods, ["GET"]);
    assert.ok(Date.parse(rule.expires_at ?? "") > Date.now(), "for 1h: it expires");
    const again = await post(JSON.stringify({ action: "approve", request: ref, revision: 2 }));
    assert.equal(again.status, 409, "a decided request is not approved twice");
    const internal = fileEgressRequest(host, "dev-aaa111", "intranet.example");
    const inside = await post(
      JSON.stringify({
        action: "approve",
        request: `dev-aaa111/${internal}`,
        revision: 1,
        internal: true,
      }),
    );
    assert.equal(inside.status, 200, inside.body);
    const after = JSON.parse(
      (await raw(dash.port, "GET", "/api/policy?bottle=dev-aaa111", { cookie })).body,
    ) as WirePolicy;
    assert.equal(after.rules.allow.find((r) => r.host === "intranet.example")?.internal, true);
    const removed = await post(
      JSON.stringify({ action: "policy-remove", bottle: "dev-aaa111", host: "docs.example.com" }),
    );
    assert.equal(removed.status, 200, removed.body);
  });

  it("denies with a reason the agent gets back", async () => {
    const id = fileEgressRequest(host, "dev-bbb222", "pastebin.com");
    const res = await post(
      JSON.stringify({ action: "deny", request: `dev-bbb222/${id}`, reason: "not needed" }),
    );
    assert.equal(res.status, 200, res.body);
    const decision = JSON.parse(
      fs.readFileSync(
        path.join(bottlePaths(host, "dev-bbb222").dir, "requests", `${id}.decision.json`),
        "utf8",
      ),
    ) as { status: string; note: string };
    assert.equal(decision.status, "denied");
    assert.equal(decision.note, "not needed");
  });

  it("streams the audit logs as they grow (server-sent events)", async () => {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${dash.port}/api/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    assert.ok(reader !== undefined);
    let text = "";
    const until = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline)
          throw new Error(`no ${String(pattern)} in:\n${text.slice(-500)}`);
        const { value } = (await reader.read()) as { value?: Uint8Array };
        text += new TextDecoder().decode(value);
      }
    };
    await until(/docs\.example\.com/);
    appendAudit(host, "dev-bbb222", "egress", [egressLine("live.example.net", "deny")]);
    await until(/live\.example\.net/);
    assert.match(text, /event: requests/);
    controller.abort();
  });

  it("pages the traffic of one bottle or all, and refuses bad paging", async () => {
    const page = JSON.parse(
      (await raw(dash.port, "GET", "/api/traffic?bottle=dev-aaa111&after=0&limit=5", { cookie }))
        .body,
    ) as { entries: { bottle: string; host: string }[]; more: boolean };
    assert.ok(page.entries.length >= 1);
    assert.ok(page.entries.every((e) => e.bottle === "dev-aaa111"));
    assert.equal(page.entries[0]?.host, "docs.example.com");
    const bad = await raw(dash.port, "GET", "/api/traffic?after=-1", { cookie });
    assert.equal(bad.status, 400);
  });

  it("keeps the token out of its logs and the state home", async () => {
    await raw(dash.port, "GET", `/api/requests?token=${dash.token}`, {});
    await raw(dash.port, "GET", `/?token=${dash.token}x`, {});
    assert.ok(dash.logs.length > 0, "actions were logged");
    for (const line of dash.logs) assert.ok(!line.includes(dash.token), line);
    for (const [file, text] of snapshot()) assert.ok(!text.includes(dash.token), file);
  });
});

describe("bottle dashboard command", () => {
  it("refuses to listen on anything but 127.0.0.1", async () => {
    assert.throws(() => {
      checkBind("0.0.0.0");
    }, /127\.0\.0\.1 only/);
    assert.throws(() => {
      checkBind("::");
    }, /127\.0\.0\.1 only/);
    const box = { cwd: host.cwd, home: host.home, env: { ...host.env, PATH: "" } } as never;
    const result = await cli(["dashboard", "--host", "0.0.0.0", "--no-open"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /127\.0\.0\.1 only/);
  });

  it("prints the address with its token on the first line of stdout, and nowhere else", async () => {
    const { dashboardCommand } = await import("../../src/cli/commands/dashboard.js");
    let out = "";
    let err = "";
    let stop = (): void => undefined;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const running = dashboardCommand(
      { port: "0", open: false, host: "127.0.0.1" },
      {
        host,
        io: { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) },
        confirm: undefined,
      },
      until,
    );
    while (out === "") await new Promise((r) => setTimeout(r, 20));
    const [first, ...rest] = out.split("\n");
    const url = new URL(first ?? "");
    assert.equal(url.hostname, "127.0.0.1");
    const token = url.searchParams.get("token") ?? "";
    assert.ok(token.length >= 40);
    const res = await raw(Number(url.port), "GET", "/api/requests", {
      authorization: `Bearer ${token}`,
    });
    assert.equal(res.status, 200);
    stop();
    await running;
    assert.ok(!rest.join("\n").includes(token));
    assert.ok(!err.includes(token));
  });
});
