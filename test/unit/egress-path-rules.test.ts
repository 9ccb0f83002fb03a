// Paths and method overrides under rules that limit paths or methods (pure, table-driven): any
// reading of the path the upstream might normalise differently is refused, and so is an override
// naming a method the rule does not allow.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import { methodOverrides, pathProblem } from "../../src/sidecar/egress/path-rules.js";

function rule(extra: Partial<PlanEgressRule>): PlanEgressRule {
  return {
    host: "api.example.test",
    ports: [443],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
    ...extra,
  };
}

const REFUSED = [
  "/ok/../x",
  "/ok/./x",
  "/ok/..;/x",
  "/ok/..;jsessionid=1/x",
  "/ok/.;/x",
  "/ok/%2e%2e/x",
  "/ok/%2E%2e/x",
  "/ok/.%2e/x",
  "/ok/%252e%252e/x",
  "/ok/%25252e%25252e/x",
  "/ok/%c0%ae%c0%ae/x",
  "/ok\\..\\x",
  "/ok/%5c../x",
  "/ok/%2f../x",
  "/ok%2f..%2fx",
  "/ok/%252f/x",
  "/ok/%00/x",
  "/ok/%zz",
  "/ok/..",
];

const PASSED = ["/ok/x", "/ok/a.b/c", "/ok/...", "/ok/x%20y", "/ok/v1;a=b/x", "/ok/%41"];

describe("path rules", () => {
  it("refuses every reading with dot segments or encoded separators", () => {
    for (const path of REFUSED) assert.notEqual(pathProblem(path), null, path);
  });

  it("passes ordinary paths", () => {
    for (const path of PASSED) assert.equal(pathProblem(path), null, path);
  });

  it("denies such paths under a path rule, and allows them with no path rule", () => {
    const limited = { allow: [rule({ paths: ["/ok/"] })], deny: [] };
    const open = { allow: [rule({})], deny: [] };
    for (const path of REFUSED) {
      const request = { host: "api.example.test", port: 443, method: "GET", path };
      const decision = decideEgress(limited, request);
      assert.equal(decision.verdict, "deny", path);
      assert.ok(!decision.reason.includes("%00"), "the reason holds no raw path bytes");
      assert.equal(decideEgress(open, request).verdict, "allow", path);
    }
    for (const path of PASSED) {
      const request = { host: "api.example.test", port: 443, method: "GET", path };
      assert.equal(decideEgress(limited, request).verdict, "allow", path);
    }
  });
});

describe("method overrides", () => {
  const cases: [string, Record<string, string | string[]>, string, string[]][] = [
    ["header", { "x-http-method-override": "DELETE" }, "/ok/x", ["DELETE"]],
    ["x-http-method", { "x-http-method": "put" }, "/ok/x", ["PUT"]],
    ["x-method-override", { "x-method-override": ["PATCH", "POST"] }, "/ok/x", ["PATCH", "POST"]],
    ["query", {}, "/ok/x?a=1&_method=DELETE", ["DELETE"]],
    ["encoded query key", {}, "/ok/x?%5Fmethod=put", ["PUT"]],
    ["none", { accept: "*/*" }, "/ok/x?method=DELETE", []],
  ];

  it("reads every override header and _method parameter", () => {
    for (const [what, headers, path, expected] of cases)
      assert.deepEqual(methodOverrides(headers, path), expected, what);
  });

  it("denies an override naming a method the rule does not allow", () => {
    const getOnly = { allow: [rule({ methods: ["GET"] })], deny: [] };
    const request = { host: "api.example.test", port: 443, method: "GET", path: "/ok/x" };
    assert.equal(decideEgress(getOnly, { ...request, overrides: ["DELETE"] }).verdict, "deny");
    assert.match(
      decideEgress(getOnly, { ...request, overrides: ["DELETE"] }).reason,
      /method-override/,
    );
    assert.equal(decideEgress(getOnly, { ...request, overrides: ["GET"] }).verdict, "allow");
    assert.equal(decideEgress(getOnly, request).verdict, "allow");
    const any = { allow: [rule({})], deny: [] };
    assert.equal(decideEgress(any, { ...request, overrides: ["DELETE"] }).verdict, "allow");
  });
});
