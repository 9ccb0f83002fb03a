/**
 * Risk flags come from the project (the grant and the bottle's configuration), never from the
 * agent's reason: each flag is shown for the case it names, and not for a plain public host.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import type { EgressSpec } from "../../src/core/requests/request.js";
import {
  credentialHosts,
  egressRiskFlags,
  pushRiskFlags,
} from "../../src/core/requests/risk-flags.js";

function rule(host: string, methods: string[] | null = null): PlanEgressRule {
  return {
    host,
    ports: [443, 80],
    methods,
    paths: null,
    tls: "intercept",
    internal: false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
  };
}

function spec(host: string, more: Partial<EgressSpec> = {}): EgressSpec {
  return { host, ports: null, methods: null, paths: null, ...more };
}

const context = {
  rules: { allow: [rule("api.github.com", ["GET", "HEAD"]), rule("registry.npmjs.org")], deny: [] },
  credentialHosts: credentialHosts(
    [{ upstream: "https://api.anthropic.com" }, { upstream: "https://npm.pkg.example.com/npm/" }],
    [{ upstream: "git@github.com:me/app.git" }, { upstream: "ssh://git@git.example.com:2222/x" }],
  ),
};

function codes(s: EgressSpec): string[] {
  return egressRiskFlags(s, context).map((f) => f.code);
}

describe("egress risk flags", () => {
  it("reads the credential hosts from routes and git entries", () => {
    assert.deepEqual(context.credentialHosts, [
      "api.anthropic.com",
      "git.example.com",
      "github.com",
      "npm.pkg.example.com",
    ]);
  });

  it("flags a host that receives an injected credential, and a wildcard covering one", () => {
    assert.deepEqual(codes(spec("api.anthropic.com")), ["credential-host"]);
    assert.deepEqual(codes(spec("*.example.com")), ["credential-host", "wildcard"]);
  });

  it("flags a wildcard", () => {
    assert.deepEqual(codes(spec("*.cdn.test")), ["wildcard"]);
  });

  it("flags internal addresses in any notation, and internal names", () => {
    for (const host of ["10.0.0.5", "127.0.0.1", "169.254.169.254", "[::1]", "192.168.1.20"]) {
      assert.deepEqual(codes(spec(host)), ["internal-address"], host);
    }
    assert.deepEqual(codes(spec("db.internal")), ["internal-address"]);
    assert.deepEqual(codes(spec("printer.local")), ["internal-address"]);
    assert.deepEqual(codes(spec("93.184.216.34")), []);
  });

  it("flags a name the operator lets resolve inside (--internal)", () => {
    assert.deepEqual(
      egressRiskFlags(spec("registry.corp.example"), context, true).map((f) => f.code),
      ["internal-address"],
    );
  });

  it("flags a write method on a host that was read-only, and not a read or a narrowed grant", () => {
    assert.deepEqual(codes(spec("api.github.com", { methods: ["POST"] })), ["write-on-read-only"]);
    assert.deepEqual(codes(spec("api.github.com")), ["write-on-read-only"]);
    assert.deepEqual(codes(spec("api.github.com", { methods: ["GET"] })), []);
    // registry.npmjs.org allows any method already: nothing new.
    assert.deepEqual(codes(spec("registry.npmjs.org", { methods: ["PUT"] })), []);
  });

  it("flags known paste, file-drop and capture services, subdomains and wildcards too", () => {
    assert.deepEqual(codes(spec("pastebin.com")), ["exfil-domain"]);
    assert.deepEqual(codes(spec("abc.webhook.site")), ["exfil-domain"]);
    assert.deepEqual(codes(spec("*.ngrok.io")), ["wildcard", "exfil-domain"]);
    assert.deepEqual(codes(spec("pastebin.com.evil.test")), []);
  });

  it("flags ports other than 80 and 443", () => {
    assert.deepEqual(codes(spec("db.example.org", { ports: [443, 5432] })), ["unusual-port"]);
    assert.deepEqual(codes(spec("db.example.org", { ports: [443, 80] })), []);
  });

  it("never reads the agent's reason (it is not an input)", () => {
    assert.equal(egressRiskFlags.length, 2, "spec and context (internal has a default)");
    assert.deepEqual(codes(spec("docs.example.org")), []);
  });

  it("flags push patterns covering the default branches, and leading wildcards", () => {
    assert.deepEqual(
      pushRiskFlags("*").map((f) => f.code),
      ["default-branch", "wildcard"],
    );
    assert.deepEqual(
      pushRiskFlags("ma*").map((f) => f.code),
      ["default-branch"],
    );
    assert.deepEqual(pushRiskFlags("feature/*"), []);
    assert.deepEqual(
      pushRiskFlags("**").map((f) => f.code),
      ["default-branch", "wildcard"],
    );
  });
});
