import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostMatches, parseHostPattern } from "../../src/core/policy/domain-pattern.js";

function pattern(text: string) {
  const result = parseHostPattern(text);
  assert.ok(result.ok, `expected ${text} to parse`);
  return result.pattern;
}

describe("host patterns", () => {
  it("matches exact names case-insensitively, ignoring a trailing dot", () => {
    const p = pattern("API.GitHub.com");
    assert.ok(hostMatches(p, "api.github.com"));
    assert.ok(hostMatches(p, "api.github.com."));
    assert.ok(!hostMatches(p, "evil-api.github.com"));
    assert.ok(!hostMatches(p, "api.github.com.evil.test"));
  });

  it("matches subdomains at any depth with a wildcard, never the apex", () => {
    const p = pattern("*.example.com");
    assert.ok(hostMatches(p, "a.example.com"));
    assert.ok(hostMatches(p, "a.b.example.com"));
    assert.ok(!hostMatches(p, "example.com"));
    assert.ok(!hostMatches(p, "badexample.com"));
  });

  it("keeps IP literals exact", () => {
    const p = pattern("10.0.0.5");
    assert.equal(p.kind, "ip");
    assert.ok(hostMatches(p, "10.0.0.5"));
    assert.ok(!hostMatches(p, "10.0.0.50"));
  });

  for (const bad of [
    "*",
    "*.com",
    "*.co.uk",
    "a.*.com",
    "*.*.example.com",
    "https://x.com",
    "x.com:443",
    "user@x.com",
    "-bad.com",
    "",
    "exa mple.com",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.equal(parseHostPattern(bad).ok, false);
    });
  }
});
