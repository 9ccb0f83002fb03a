import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { EgressPolicy, EgressRequest } from "../../src/sidecar/egress/egress-policy.js";
import { decideEgress, ruleExpired, withoutRule } from "../../src/sidecar/egress/egress-policy.js";

function rule(host: string, extra: Partial<PlanEgressRule> = {}): PlanEgressRule {
  return {
    host,
    ports: [443, 80],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
    ...extra,
  };
}

const policy: EgressPolicy = {
  allow: [
    rule("registry.npmjs.org"),
    rule("*.githubusercontent.com"),
    rule("api.github.com", { methods: ["GET"], paths: ["/repos/", "/user"] }),
    rule("*.example.org"),
    rule("10.0.0.5"),
    rule("[fd00::5]"),
    rule("files.test", { ports: [8443] }),
  ],
  deny: ["evil.example.org", "*.bad.example.org"],
};

/** [name, host, port, expected rule, "METHOD /path" when the request is visible, reason]. */
type Case = [string, string, number, string, string?, RegExp?];

const cases: Case[] = [
  // exact
  ["exact host", "registry.npmjs.org", 443, "allow:registry.npmjs.org"],
  ["upper case, trailing dot", "Registry.NPMJS.org.", 443, "allow:registry.npmjs.org"],
  ["subdomain of an exact host", "x.registry.npmjs.org", 443, "default-deny"],
  ["look-alike suffix", "registry.npmjs.org.evil.test", 443, "default-deny"],
  [
    "unknown host",
    "unknown.test",
    443,
    "default-deny",
    undefined,
    /^host unknown\.test is not in the bottle's allow list; the operator can allow it$/,
  ],
  // wildcard
  ["wildcard, one level", "raw.githubusercontent.com", 443, "allow:*.githubusercontent.com"],
  ["wildcard, two levels", "a.b.githubusercontent.com", 443, "allow:*.githubusercontent.com"],
  ["wildcard never matches the apex", "githubusercontent.com", 443, "default-deny"],
  ["wildcard look-alike", "evilgithubusercontent.com", 443, "default-deny"],
  // deny wins
  [
    "deny beats a wildcard allow",
    "evil.example.org",
    443,
    "deny:evil.example.org",
    undefined,
    /deny list.*operator/,
  ],
  ["deny wildcard beats allow", "x.bad.example.org", 80, "deny:*.bad.example.org"],
  ["deny, even on a bad port", "EVIL.example.org.", 0, "deny:evil.example.org"],
  ["deny wildcard leaves its apex", "bad.example.org", 443, "allow:*.example.org"],
  // ports
  ["default port 443", "registry.npmjs.org", 443, "allow:registry.npmjs.org"],
  ["default port 80", "registry.npmjs.org", 80, "allow:registry.npmjs.org"],
  [
    "port 8080",
    "registry.npmjs.org",
    8080,
    "default-deny",
    undefined,
    /port 8080 of registry\.npmjs\.org is not allowed/,
  ],
  ["port 22", "registry.npmjs.org", 22, "default-deny"],
  ["a rule's own ports", "files.test", 8443, "allow:files.test"],
  ["a rule's own ports only", "files.test", 443, "default-deny"],
  ["port 0", "registry.npmjs.org", 0, "invalid-request"],
  ["port too high", "registry.npmjs.org", 65536, "invalid-request"],
  ["port not an integer", "registry.npmjs.org", 443.5, "invalid-request"],
  ["port NaN", "registry.npmjs.org", Number.NaN, "invalid-request"],
  // methods and paths: only when visible
  ["tunnel to a limited host (not visible)", "api.github.com", 443, "allow:api.github.com"],
  ["visible GET, allowed path", "api.github.com", 443, "allow:api.github.com", "GET /repos/me/app"],
  ["method compared upper-case", "api.github.com", 443, "allow:api.github.com", "get /user"],
  ["query ignored for paths", "api.github.com", 443, "allow:api.github.com", "GET /user?x=/repos/"],
  [
    "visible POST",
    "api.github.com",
    443,
    "default-deny",
    "POST /repos/me/app",
    /^method POST to api\.github\.com is not allowed \(the bottle allows GET\); the operator can allow it$/,
  ],
  [
    "visible GET, other path",
    "api.github.com",
    443,
    "default-deny",
    "GET /gists",
    /path \/gists on api\.github\.com is not allowed/,
  ],
  ["path with dot segments", "api.github.com", 443, "default-deny", "GET /repos/../gists"],
  ["encoded dot segments", "api.github.com", 443, "default-deny", "GET /repos/%2E%2e/gists"],
  ["encoded slash", "api.github.com", 443, "default-deny", "GET /repos%2f..%2fgists"],
  ["backslash", "api.github.com", 443, "default-deny", "GET /repos/..\\gists"],
  ["method given, path not", "api.github.com", 443, "default-deny", "DELETE"],
  ["path given, method not", "api.github.com", 443, "allow:api.github.com", " /user"],
  [
    "unlimited rule, any method/path",
    "registry.npmjs.org",
    443,
    "allow:registry.npmjs.org",
    "PUT /../x",
  ],
  // IP literals
  ["IPv4 exact", "10.0.0.5", 443, "allow:10.0.0.5"],
  ["IPv4 neighbour (internal, not named)", "10.0.0.50", 443, "internal-address"],
  ["IPv4 public, no rule", "93.184.216.34", 443, "default-deny"],
  ["IPv4 inside a name", "10.0.0.5.nip.io", 443, "default-deny"],
  // Other notations of an address are read as that address, then judged like it.
  ["IPv4 as one number", "167772165", 443, "allow:10.0.0.5"],
  ["IPv4 in hex", "0xa.0.0.5", 443, "allow:10.0.0.5"],
  ["IPv4 with leading zeros (octal)", "012.0.0.5", 443, "allow:10.0.0.5"],
  ["IPv4 short form", "10.5", 443, "allow:10.0.0.5"],
  ["IPv4-mapped IPv6", "[::ffff:10.0.0.5]", 443, "allow:10.0.0.5"],
  ["IPv4-mapped IPv6 in hex", "[::ffff:a00:5]", 443, "allow:10.0.0.5"],
  ["loopback in hex", "0x7f000001", 443, "internal-address"],
  ["loopback in octal", "0177.0.0.1", 443, "internal-address"],
  ["loopback as one number", "2130706433", 443, "internal-address"],
  ["loopback IPv4-mapped", "[::ffff:127.0.0.1]", 443, "internal-address"],
  ["unspecified address", "0.0.0.0", 443, "internal-address"],
  ["cloud metadata", "169.254.169.254", 80, "internal-address"],
  ["octet out of range", "10.0.0.256", 443, "invalid-request"],
  ["bad octal digit", "010.0.0.09", 443, "invalid-request"],
  ["IPv6 in brackets", "[fd00::5]", 443, "allow:[fd00::5]"],
  ["IPv6 bare, upper case", "FD00::5", 443, "allow:[fd00::5]"],
  ["IPv6 loopback", "[::1]", 443, "internal-address"],
  ["IPv6 link-local", "[fe80::1]", 443, "internal-address"],
  ["IPv6 with a zone id", "fd00::5%eth0", 443, "invalid-request"],
  ["IPv6, unbalanced bracket", "[fd00::5", 443, "invalid-request"],
  // odd hosts
  ["empty host", "", 443, "invalid-request"],
  ["a lone dot", ".", 443, "invalid-request"],
  ["two trailing dots", "registry.npmjs.org..", 443, "invalid-request"],
  ["empty label", "registry..npmjs.org", 443, "invalid-request"],
  ["wildcard as a host", "*.githubusercontent.com", 443, "invalid-request"],
  ["user info", "user@registry.npmjs.org", 443, "invalid-request"],
  ["host with a port", "registry.npmjs.org:443", 443, "invalid-request"],
  ["leading whitespace", " registry.npmjs.org", 443, "invalid-request"],
  [
    "control characters",
    "registry.npmjs.org\r\nx",
    443,
    "invalid-request",
    undefined,
    /^the host "registry\.npmjs\.org\?\?x" is not a valid host name/,
  ],
  ["NUL", "registry.npmjs.org\0.evil", 443, "invalid-request"],
  ["unicode look-alike", "registry.npmjѕ.org", 443, "invalid-request"],
  ["a very long host", `${"a".repeat(300)}.test`, 443, "invalid-request"],
];

describe("decideEgress", () => {
  for (const [name, host, port, rule, visible, reason] of cases) {
    it(name, () => {
      const request: EgressRequest = { host, port };
      if (visible !== undefined) {
        const [method, path] = visible.split(" ");
        if (method) request.method = method;
        if (path !== undefined) request.path = path;
      }
      const decision = decideEgress(policy, request);
      const verdict = rule.startsWith("allow:") ? "allow" : "deny";
      assert.equal(decision.verdict, verdict, decision.reason);
      assert.equal(decision.rule, rule);
      assert.ok(decision.reason.length > 0);
      if (reason) assert.match(decision.reason, reason);
    });
  }

  it("denies everything with an empty policy", () => {
    const decision = decideEgress(
      { allow: [], deny: [] },
      { host: "registry.npmjs.org", port: 443 },
    );
    assert.deepEqual(decision, {
      verdict: "deny",
      host: "registry.npmjs.org",
      rule: "default-deny",
      reason:
        "host registry.npmjs.org is not in the bottle's allow list; the operator can allow it",
    });
  });

  it("names the first matching allow rule", () => {
    const decision = decideEgress(
      { allow: [rule("a.example.org", { ports: [1] }), rule("*.example.org")], deny: [] },
      { host: "a.example.org", port: 443 },
    );
    assert.equal(decision.rule, "allow:*.example.org");
  });

  it("ignores patterns it cannot parse instead of matching everything", () => {
    const odd: EgressPolicy = { allow: [rule("*"), rule("*.com"), rule("")], deny: ["*", ""] };
    for (const host of ["example.com", "a.com", "x"]) {
      assert.equal(decideEgress(odd, { host, port: 443 }).verdict, "deny", host);
    }
  });

  it("never throws, whatever it is given", () => {
    const broken = [
      { allow: null, deny: [] },
      { allow: [{ host: "a.test" }], deny: [] },
      { allow: [rule("a.test")], deny: null },
      null,
    ] as unknown as EgressPolicy[];
    const requests = [
      { host: "a.test", port: 443, method: "GET", path: "/" },
      { host: null, port: 443 },
      { host: 42, port: "443" },
      { host: "a.test", port: 443, method: 7, path: {} },
      {},
    ] as unknown as EgressRequest[];
    for (const p of [policy, ...broken]) {
      for (const request of requests) {
        const decision = decideEgress(p, request);
        assert.ok(["allow", "deny"].includes(decision.verdict));
        if (p !== policy) assert.equal(decision.verdict, "deny", JSON.stringify(request));
      }
    }
  });
});

describe("expiry and once (pure)", () => {
  const now = new Date("2026-12-03T12:00:00.000Z");

  it("a rule past its expires_at matches nothing; one before it still matches", () => {
    const expired = {
      allow: [rule("a.test", { expires_at: "2026-12-03T11:59:59.000Z" })],
      deny: [],
    };
    const denied = decideEgress(expired, { host: "a.test", port: 443 }, undefined, now);
    assert.equal(denied.verdict, "deny");
    assert.match(denied.reason, /expired at 2026-12-03T11:59:59/);
    const live = { allow: [rule("a.test", { expires_at: "2026-12-03T12:00:01.000Z" })], deny: [] };
    assert.equal(
      decideEgress(live, { host: "a.test", port: 443 }, undefined, now).verdict,
      "allow",
    );
    assert.equal(ruleExpired({ expires_at: "2026-12-03T12:00:00.000Z" }, now), true);
    assert.equal(ruleExpired({ expires_at: null }, now), false);
  });

  it("withoutRule removes that one rule and leaves the input alone", () => {
    const once = rule("a.test", { once: true });
    const policy = { allow: [rule("a.test"), once, rule("b.test")], deny: ["x.test"] };
    const next = withoutRule(policy, once);
    assert.deepEqual(
      next.allow.map((r) => [r.host, r.once]),
      [
        ["a.test", false],
        ["b.test", false],
      ],
    );
    assert.deepEqual(next.deny, ["x.test"]);
    assert.equal(policy.allow.length, 3);
    assert.equal(withoutRule(next, once), next, "an absent rule changes nothing");
  });
});
