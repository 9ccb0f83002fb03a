/**
 * What an approval grants: scopes and expiry, narrowing (never widening), the rule with its
 * provenance, the approve/show binding, and how a grant joins and leaves the rules in force.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBottleError } from "../../src/core/errors.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { parseDuration } from "../../src/core/plan/units.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import type { EgressRules } from "../../src/core/policy/policy-change.js";
import { approve, checkShownRevision, deny } from "../../src/core/requests/grant.js";
import type { BottleRequest } from "../../src/core/requests/request.js";
import { decisionSchema } from "../../src/core/requests/request.js";
import { requestStatus } from "../../src/core/requests/request-merge.js";
import {
  liftedDenies,
  stillDenying,
  withGrantedRule,
  withoutRequestRules,
} from "../../src/core/requests/request-rules.js";
import { egressRulesSchema } from "../../src/core/contract/contract.js";

const NOW = new Date("2026-12-03T10:00:00.000Z");

function request(more: Partial<BottleRequest["spec"]> | null = null, revision = 1): BottleRequest {
  return {
    id: "r-abc123",
    identity: "dev-1",
    spec: (more as BottleRequest["spec"] | null) ?? {
      kind: "egress",
      egress: { host: "Api.Example.com", ports: null, methods: ["GET", "POST"], paths: ["/v1/"] },
    },
    reason: "the tests need it",
    revision,
    hits: 1,
    first_seen: NOW.toISOString(),
    last_seen: NOW.toISOString(),
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isBottleError(error) ? error.code : `other: ${String(error)}`;
  }
  return "no error";
}

const manifestRule = {
  host: "api.example.com",
  ports: [443, 80],
  methods: ["GET"],
  paths: null,
  tls: "intercept" as const,
  internal: false,
  source: "manifest",
  ...PLAN_RULE_PROVENANCE,
};

describe("durations", () => {
  it("reads s, m, h, d and sums", () => {
    assert.equal(parseDuration("2s"), 2000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("2d"), 172_800_000);
    for (const bad of ["10", "1x", "", "-1h", "0s", "1 h"]) {
      assert.throws(() => parseDuration(bad), /not a duration/, bad);
    }
  });
});

describe("approve: scopes and the rule with its provenance", () => {
  it("defaults to the bottle scope: no expiry, not once", () => {
    const { decision, rule } = approve(request(), {}, "cli:alice", NOW);
    decisionSchema.parse(decision);
    assert.equal(decision.scope, "bottle");
    assert.equal(decision.expires_at, null);
    assert.deepEqual(rule, {
      host: "api.example.com",
      ports: [443, 80],
      methods: ["GET", "POST"],
      paths: ["/v1/"],
      tls: "intercept",
      internal: false,
      source: "request",
      request_id: "r-abc123",
      added_by: "cli:alice",
      added_at: NOW.toISOString(),
      expires_at: null,
      once: false,
    });
    // The rule is a valid contract rule (the sidecar parses it at POST /policy/edit).
    egressRulesSchema.parse({ allow: [rule], deny: [] });
  });

  it("--for sets the expiry from now; --once marks the rule", () => {
    const timed = approve(request(), { scope: "for", durationMs: 2000 }, "cli:a", NOW);
    assert.equal(timed.decision.expires_at, "2026-12-03T10:00:02.000Z");
    assert.equal(timed.rule?.expires_at, "2026-12-03T10:00:02.000Z");
    const once = approve(request(), { scope: "once" }, "cli:a", NOW);
    assert.equal(once.rule?.once, true);
    assert.equal(once.rule.expires_at, null);
    assert.equal(
      code(() => approve(request(), { scope: "for" }, "cli:a", NOW)),
      "usage",
    );
    assert.equal(
      code(() => approve(request(), { durationMs: 5 }, "cli:a", NOW)),
      "usage",
    );
  });

  it("a time-limited approval reads as expired once past its end", () => {
    const r = request();
    const { decision } = approve(r, { scope: "for", durationMs: 2000 }, "cli:a", NOW);
    assert.equal(requestStatus(r, decision, new Date(NOW.getTime() + 1999)), "approved");
    assert.equal(requestStatus(r, decision, new Date(NOW.getTime() + 2000)), "expired");
  });

  it("narrows methods and paths, and refuses to widen them", () => {
    const narrowed = approve(request(), { methods: ["get"], paths: ["/v1/items"] }, "cli:a", NOW);
    assert.deepEqual(narrowed.rule?.methods, ["GET"]);
    assert.deepEqual(narrowed.rule.paths, ["/v1/items"]);
    assert.equal(
      code(() => approve(request(), { methods: ["DELETE"] }, "cli:a", NOW)),
      "usage",
    );
    assert.equal(
      code(() => approve(request(), { paths: ["/admin"] }, "cli:a", NOW)),
      "usage",
    );
    assert.equal(
      code(() => approve(request(), { paths: ["v1"] }, "cli:a", NOW)),
      "usage",
    );
  });

  it("a request for any method may be narrowed to some", () => {
    const any = request({
      kind: "egress",
      egress: { host: "x.test", ports: [8443], methods: null, paths: null },
    });
    const { rule } = approve(any, { methods: ["GET"] }, "cli:a", NOW);
    assert.deepEqual(rule?.methods, ["GET"]);
    assert.deepEqual(rule.ports, [8443]);
  });

  it("push-branch requests grant their pattern and no rule; methods do not apply", () => {
    const push = request({
      kind: "push-branch",
      push_branch: { pattern: "feature/*", entry: null },
    });
    const grant = approve(push, {}, "cli:a", NOW);
    assert.equal(grant.rule, null);
    assert.deepEqual(grant.decision.granted, push.spec);
    assert.equal(
      code(() => approve(push, { methods: ["GET"] }, "cli:a", NOW)),
      "usage",
    );
  });

  it("a denial carries the reason and grants nothing", () => {
    const d = deny(request(), "use the mirror", "cli:a", NOW);
    decisionSchema.parse(d);
    assert.equal(d.status, "denied");
    assert.equal(d.granted, null);
    assert.equal(d.note, "use the mirror");
  });
});

describe("the approve/show binding", () => {
  it("refuses when the request's revision changed since it was shown", () => {
    assert.equal(
      code(() => {
        checkShownRevision(request(null, 1), 1);
      }),
      "no error",
    );
    assert.equal(
      code(() => {
        checkShownRevision(request(null, 2), 1);
      }),
      "request_changed",
    );
  });

  it("a decision on an older revision leaves the request pending", () => {
    const { decision } = approve(request(null, 1), {}, "cli:a", NOW);
    assert.equal(requestStatus(request(null, 2), decision, NOW), "pending");
  });
});

describe("grants in the rules in force", () => {
  const rules: EgressRules = { allow: [manifestRule], deny: ["api.example.com", "*.other.test"] };

  it("adds the rule beside the manifest's, and lifts only the exact deny", () => {
    const { rule } = approve(request(), { methods: ["POST"] }, "cli:a", NOW);
    assert.ok(rule !== null);
    assert.deepEqual(liftedDenies(rules, "API.example.com"), ["api.example.com"]);
    const next = withGrantedRule(rules, rule);
    assert.deepEqual(next.allow, [manifestRule, rule]);
    assert.deepEqual(next.deny, ["*.other.test"]);
    assert.deepEqual(
      stillDenying({ allow: [], deny: ["*.example.com", "x.test"] }, "a.example.com"),
      ["*.example.com"],
    );
    // The manifest's GET still works everywhere; the grant's POST only under /v1/.
    const decide = (method: string, path: string) =>
      decideEgress(next, { host: "api.example.com", port: 443, method, path }).verdict;
    assert.equal(decide("GET", "/other"), "allow");
    assert.equal(decide("POST", "/v1/x"), "allow");
    assert.equal(decide("POST", "/other"), "deny");
  });

  it("a re-approval of the same request replaces its earlier rule", () => {
    const first = approve(request(), {}, "cli:a", NOW).rule;
    const second = approve(request(), { methods: ["GET"] }, "cli:a", NOW).rule;
    assert.ok(first !== null && second !== null);
    const next = withGrantedRule(withGrantedRule(rules, first), second);
    assert.deepEqual(next.allow, [manifestRule, second]);
  });

  it("removing a request's rules leaves the others, and says when there are none", () => {
    const { rule } = approve(request(), {}, "cli:a", NOW);
    assert.ok(rule !== null);
    const next = withoutRequestRules(withGrantedRule(rules, rule), "r-abc123");
    assert.deepEqual(next.allow, [manifestRule]);
    assert.equal(
      code(() => withoutRequestRules(next, "r-abc123")),
      "usage",
    );
  });
});
