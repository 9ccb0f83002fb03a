/**
 * The git gate's audit never keeps a secret the agent put in a ref name, a file path or anything
 * a reason quotes: written as an attacker would, with the bottle's own token and a provider-shaped
 * one, in a pushed branch name and in the path of a refused file.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import type { GitAuditEntry } from "../../src/sidecar/git/git-audit.js";
import { redactGitAuditEntry } from "../../src/sidecar/git/git-audit-redaction.js";

const OWN = "bottle-own-fake-token-Zq81xKp4Lm2Vn7Rt";
// Provider-shaped, fake: a GitHub token's prefix and length.
const GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY2z4A";
const inspector = new DlpInspector({ ownSecrets: [OWN], placeholders: [] });
const ZERO = "0".repeat(40);
const ONE = "1".repeat(40);

function push(parts: Partial<GitAuditEntry>): GitAuditEntry {
  return {
    time: new Date(0).toISOString(),
    op: "push",
    repo: "app",
    verdict: "deny",
    reason: "refused",
    refs: [],
    duration_ms: 1,
    ...parts,
  };
}

describe("git audit redaction", () => {
  it("redacts a ref name carrying the bottle's own token, and the reason and error quoting it", () => {
    const ref = `refs/heads/bottle/${OWN}`;
    const entry = push({
      reason: `${ref} is not a branch you may push`,
      refs: [{ ref, old: ZERO, new: ONE, error: `${ref}: not allowed` }],
    });
    const text = JSON.stringify(redactGitAuditEntry(entry, inspector));
    assert.doesNotMatch(text, new RegExp(OWN.slice(8, 24)));
    assert.match(text, /redacted/);
  });

  it("redacts a finding's path named after a provider token", () => {
    const entry = push({
      reason: `dlp: github-token in keys/${GITHUB}.txt`,
      finding: `github-token@keys/${GITHUB}.txt`,
      refs: [{ ref: "refs/heads/bottle/work", old: ZERO, new: ONE }],
    });
    const out = redactGitAuditEntry(entry, inspector);
    assert.doesNotMatch(JSON.stringify(out), /ghp_aB3d/);
    assert.equal(out.finding, "github-token@[redacted]");
    assert.equal(out.refs[0]?.ref, "refs/heads/bottle/work", "an ordinary ref name is kept");
  });

  it("keeps an ordinary entry as it is", () => {
    const entry = push({
      verdict: "allow",
      reason: "pushed",
      refs: [{ ref: "refs/heads/bottle/fix-login", old: ZERO, new: ONE }],
      finding: "generic@src/app.ts",
    });
    assert.deepEqual(redactGitAuditEntry(entry, inspector), entry);
  });
});
