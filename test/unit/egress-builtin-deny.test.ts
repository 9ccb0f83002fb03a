// The built-in deny list of paste, file-drop and request-capture services: every entry parses,
// is denied by default, can be extended, lifted by name, or dropped with builtin_deny: false.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { BUILTIN_DENY, builtinDenyFor } from "../../src/core/policy/builtin-deny.js";
import { parseHostPattern } from "../../src/core/policy/domain-pattern.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";

function rule(host: string): PlanEgressRule {
  return {
    host,
    ports: [443],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
  };
}

const SAMPLES = [
  "pastebin.com",
  "paste.ee",
  "hastebin.com",
  "ghostbin.com",
  "transfer.sh",
  "file.io",
  "0x0.st",
  "termbin.com",
  "webhook.site",
  "abc.requestbin.com",
  "eo123.m.pipedream.net",
  "abcd-1-2-3-4.ngrok-free.app",
  "abcd.ngrok.io",
  "x.beeceptor.com",
  "x.requestcatcher.com",
  "c7abc.oast.fun",
  "abc.interact.sh",
  "abc.burpcollaborator.net",
  "abc.oastify.com",
];

describe("built-in egress deny list", () => {
  it("holds only patterns that parse", () => {
    for (const pattern of BUILTIN_DENY) assert.ok(parseHostPattern(pattern).ok, pattern);
  });

  it("denies each service even under a wildcard allow, and names the list", () => {
    const policy = { allow: [rule("*.com"), rule("webhook.site")], deny: builtinDenyFor(true, []) };
    for (const host of SAMPLES) {
      const decision = decideEgress(policy, { host, port: 443 });
      assert.equal(decision.verdict, "deny", host);
      // 0x0.st is refused earlier, as a malformed IPv4 literal.
      assert.match(decision.reason, /deny list|not a valid IPv4/, host);
    }
    assert.equal(decideEgress(policy, { host: "api.github.com", port: 443 }).verdict, "deny");
  });

  it("is lifted for a host an allow rule names exactly, and dropped when disabled", () => {
    assert.ok(!builtinDenyFor(true, ["pastebin.com"]).includes("pastebin.com"));
    assert.ok(builtinDenyFor(true, ["pastebin.com"]).includes("*.pastebin.com"));
    assert.ok(builtinDenyFor(true, ["*.com"]).includes("pastebin.com"));
    assert.deepEqual(builtinDenyFor(false, []), []);
    const lifted = { allow: [rule("pastebin.com")], deny: builtinDenyFor(true, ["pastebin.com"]) };
    assert.equal(decideEgress(lifted, { host: "pastebin.com", port: 443 }).verdict, "allow");
  });
});
