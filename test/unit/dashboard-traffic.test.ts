/** PURE: audit lines as the dashboard shows them (traffic-entry.ts), and the feed over real files. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { toTrafficEntry } from "../../src/dashboard/traffic-entry.js";
import { TrafficFeed } from "../../src/dashboard/traffic-feed.js";
import { bottlePaths } from "../../src/core/state/bottle-state.js";
import { egressLine, seedBottle, tempHost } from "../helpers/dashboard.js";

describe("traffic entries", () => {
  it("takes named fields of an egress line only, checked for their type", () => {
    const line = JSON.stringify({
      time: "2026-12-03T10:00:00.000Z",
      kind: "https",
      method: "POST",
      host: "api.example.com",
      port: 443,
      path: "/v1/upload",
      verdict: "deny",
      rule: "dlp:aws-key",
      reason: "the body holds a secret",
      status: 403,
      finding: "aws-key@body",
      // Nothing but the named fields reaches the page, whatever a line holds.
      authorization: "Bearer not-a-real-token",
      extra: { nested: true },
    });
    const entry = toTrafficEntry(line, "dev-1", "egress", 7);
    assert.deepEqual(entry, {
      seq: 7,
      bottle: "dev-1",
      log: "egress",
      time: "2026-12-03T10:00:00.000Z",
      kind: "https",
      method: "POST",
      host: "api.example.com",
      port: 443,
      path: "/v1/upload",
      verdict: "deny",
      rule: "dlp:aws-key",
      reason: "the body holds a secret",
      status: 403,
      duration_ms: null,
      finding: "aws-key@body",
      error: null,
    });
    assert.ok(!JSON.stringify(entry).includes("not-a-real-token"));
    const wrongTypes = JSON.stringify({ time: "2026-12-03T10:00:00Z", host: 5, port: "443" });
    const odd = toTrafficEntry(wrongTypes, "dev-1", "egress", 1);
    assert.equal(odd?.host, "?");
    assert.equal(odd.port, null);
    assert.equal(odd.verdict, "error");
  });

  it("reads credential and git lines, and refuses lines without a time", () => {
    const cred = toTrafficEntry(
      JSON.stringify({
        time: "2026-12-03T10:00:00Z",
        route: null,
        method: "GET",
        path: "/x",
        status: 404,
      }),
      "b",
      "credentials",
      1,
    );
    assert.equal(cred?.verdict, "deny");
    assert.equal(cred.host, "(no route)");
    const git = toTrafficEntry(
      JSON.stringify({
        time: "2026-12-03T10:00:00Z",
        op: "push",
        repo: "app",
        verdict: "deny",
        reason: "branch main is not allowed",
        refs: [{ ref: "refs/heads/main", old: "0", new: "1" }],
        duration_ms: 30,
      }),
      "b",
      "git",
      2,
    );
    assert.deepEqual(
      [git?.kind, git?.host, git?.path, git?.verdict],
      ["push", "app", "refs/heads/main", "deny"],
    );
    assert.equal(toTrafficEntry("not json", "b", "egress", 1), undefined);
    assert.equal(toTrafficEntry("{}", "b", "egress", 1), undefined);
    assert.equal(
      toTrafficEntry(JSON.stringify({ time: "yesterday" }), "b", "egress", 1),
      undefined,
    );
  });

  it("follows every bottle's logs, including bottles and lines that appear later", () => {
    const host = tempHost();
    seedBottle(host, "one-aaaaaa");
    const egress = (id: string): string =>
      path.join(bottlePaths(host, id).auditDir, "egress.jsonl");
    fs.writeFileSync(egress("one-aaaaaa"), `${egressLine("a.example", "allow")}\n`);
    const feed = new TrafficFeed(host, { keep: 3 });
    const got: string[] = [];
    feed.subscribe((entries) => got.push(...entries.map((e) => `${e.bottle} ${e.host}`)));
    feed.poll();
    seedBottle(host, "two-bbbbbb");
    fs.writeFileSync(egress("two-bbbbbb"), `${egressLine("b.example", "deny")}\n`);
    fs.appendFileSync(egress("one-aaaaaa"), `${egressLine("c.example", "allow")}\n{"partial":`);
    feed.poll();
    assert.deepEqual(got.sort(), [
      "one-aaaaaa a.example",
      "one-aaaaaa c.example",
      "two-bbbbbb b.example",
    ]);
    assert.deepEqual(
      feed.since(1).map((e) => e.seq),
      [2, 3],
    );
    fs.appendFileSync(egress("one-aaaaaa"), `${egressLine("d.example", "allow")}\n`);
    feed.poll();
    assert.equal(feed.since(0).length, 3, "keeps the newest entries only");
    feed.stop();
  });
});
