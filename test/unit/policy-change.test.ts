import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { parseSavedRules } from "../../src/core/contract/saved-rules.js";
import type { EgressRules } from "../../src/core/policy/policy-change.js";
import { applyPolicyChange } from "../../src/core/policy/policy-change.js";
import { renderAuditLine } from "../../src/cli/commands/logs.js";

const base: EgressRules = {
  allow: [
    {
      host: "a.example.com",
      ports: [443, 80],
      methods: null,
      paths: null,
      tls: "intercept",
      internal: false,
      source: "manifest",
      ...PLAN_RULE_PROVENANCE,
    },
  ],
  deny: ["bad.example.com"],
};

describe("applyPolicyChange", () => {
  it("adds an allow rule marked as the operator's, replacing any rule for the same host", () => {
    const next = applyPolicyChange(base, {
      kind: "allow",
      host: "Bad.Example.com",
      methods: ["get"],
      tls: "intercept",
    });
    assert.deepEqual(next.deny, []);
    assert.deepEqual(next.allow.at(-1), {
      host: "bad.example.com",
      ports: [443, 80],
      methods: ["GET"],
      paths: null,
      tls: "intercept",
      internal: false,
      source: "operator",
      ...PLAN_RULE_PROVENANCE,
    });
    assert.equal(base.allow.length, 1, "the input is not modified");
  });

  it("records an approved request's provenance and scope on the rule", () => {
    const next = applyPolicyChange(base, {
      kind: "allow",
      host: "api.example.test",
      tls: "intercept",
      source: "request",
      request_id: "r-abc123",
      added_by: "cli:alice",
      added_at: "2026-12-03T10:00:00.000Z",
      expires_at: "2026-12-03T11:00:00.000Z",
      once: true,
    });
    assert.deepEqual(next.allow.at(-1), {
      host: "api.example.test",
      ports: [443, 80],
      methods: null,
      paths: null,
      tls: "intercept",
      internal: false,
      source: "request",
      request_id: "r-abc123",
      added_by: "cli:alice",
      added_at: "2026-12-03T10:00:00.000Z",
      expires_at: "2026-12-03T11:00:00.000Z",
      once: true,
    });
  });

  it("moves a host from allow to deny", () => {
    const next = applyPolicyChange(base, { kind: "deny", host: "a.example.com" });
    assert.deepEqual(next, { allow: [], deny: ["bad.example.com", "a.example.com"] });
  });

  it("removes rules, and says so when there is none", () => {
    assert.deepEqual(applyPolicyChange(base, { kind: "remove", host: "bad.example.com" }).deny, []);
    assert.throws(
      () => applyPolicyChange(base, { kind: "remove", host: "none.example.com" }),
      (e: unknown) => isBottleError(e) && e.exitCode === 2,
    );
  });

  it("refuses allow-everything patterns", () => {
    for (const host of ["*", "*.com", "https://x.com"]) {
      assert.throws(
        () => applyPolicyChange(base, { kind: "allow", host, tls: "intercept" }),
        (e: unknown) => isBottleError(e) && e.code === "usage",
      );
    }
  });
});

describe("parseSavedRules", () => {
  it("loads a policy.json written before rules had provenance, with the defaults", () => {
    const old = {
      allow: [
        {
          host: "a.example.com",
          ports: [443],
          methods: null,
          paths: null,
          tls: "intercept",
          internal: false,
          source: "operator",
        },
      ],
      deny: [],
    };
    const rules = parseSavedRules(JSON.stringify(old), "policy.json");
    assert.deepEqual(rules.allow[0], { ...old.allow[0], ...PLAN_RULE_PROVENANCE });
  });

  it("refuses an expiry that is not an ISO time", () => {
    const bad = { ...base.allow[0], expires_at: "tomorrow" };
    assert.throws(
      () => parseSavedRules(JSON.stringify({ allow: [bad], deny: [] }), "policy.json"),
      /expires_at/,
    );
  });
});

describe("renderAuditLine", () => {
  it("shows time, verdict, method, target, status and the reason of a denial", () => {
    const line = JSON.stringify({
      time: "2026-11-24T08:40:29.584Z",
      kind: "http",
      method: "GET",
      host: "other.test",
      port: 80,
      path: "/x",
      verdict: "deny",
      rule: "default-deny",
      reason: "not allowed",
      status: 403,
    });
    assert.equal(
      renderAuditLine(line),
      "08:40:29  DENY   GET      other.test:80/x  403  [default-deny]  (not allowed)",
    );
  });

  it("marks intercepted requests and shows findings by kind, never a value", () => {
    const line = JSON.stringify({
      time: "2026-11-24T08:40:29.584Z",
      kind: "https",
      method: "POST",
      host: "api.example.test",
      port: 443,
      path: "/upload",
      verdict: "deny",
      rule: "dlp:github-token",
      reason: "the request carries what looks like a secret (github-token) in its body",
      finding: "github-token@body",
      status: 403,
    });
    assert.match(
      renderAuditLine(line),
      /DENY {3}POST {5}https:\/\/api\.example\.test:443\/upload {2}403 {2}\[dlp:github-token\].*finding github-token@body$/,
    );
  });

  it("passes a line that is not JSON through", () => {
    assert.equal(renderAuditLine("garbage"), "garbage");
  });
});
