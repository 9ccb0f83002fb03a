import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PushPolicy, RefUpdate } from "../../src/sidecar/git/push-policy.js";
import { ZERO_ID, judgePush, judgeRef, refusalsByRef } from "../../src/sidecar/git/push-policy.js";

const policy: PushPolicy = {
  branches: ["bottle/dev-k3x9q2/*", "release/**", "refs/tags/v*"],
  force: false,
  delete: false,
  max_size_bytes: 1000,
};
const A = "a".repeat(40);
const B = "b".repeat(40);

function update(ref: string, extra: Partial<RefUpdate> = {}): RefUpdate {
  return { ref, old: A, new: B, fastForward: true, ...extra };
}

describe("push policy", () => {
  it("allows the bottle's own branches, one level under a single star", () => {
    assert.equal(judgeRef(policy, update("refs/heads/bottle/dev-k3x9q2/feature")).allowed, true);
    assert.equal(judgeRef(policy, update("refs/heads/bottle/dev-k3x9q2/a/b")).allowed, false);
    assert.equal(judgeRef(policy, update("refs/heads/release/1/2")).allowed, true);
    assert.equal(judgeRef(policy, update("refs/heads/bottle/other/feature")).allowed, false);
  });

  it("protects everything else, tags included unless named in full", () => {
    const main = judgeRef(policy, update("refs/heads/main"));
    assert.deepEqual(main, {
      ref: "refs/heads/main",
      allowed: false,
      reason:
        "main is protected: this bottle may push only to bottle/dev-k3x9q2/*, release/**, refs/tags/v*",
    });
    assert.equal(judgeRef(policy, update("refs/tags/v1.0", { old: ZERO_ID })).allowed, true);
    assert.equal(judgeRef(policy, update("refs/tags/latest", { old: ZERO_ID })).allowed, false);
    assert.equal(judgeRef(policy, update("refs/heads/bottle/dev-k3x9q2.x/y")).allowed, false);
  });

  it("refuses deletions and rewrites unless allowed", () => {
    const ref = "refs/heads/bottle/dev-k3x9q2/feature";
    assert.match(judgeRef(policy, update(ref, { new: ZERO_ID })).reason, /deleting .* not allowed/);
    assert.match(
      judgeRef(policy, update(ref, { fastForward: false })).reason,
      /not a fast-forward.*force pushes are not allowed/,
    );
    const open = { ...policy, force: true, delete: true };
    assert.equal(judgeRef(open, update(ref, { new: ZERO_ID })).allowed, true);
    assert.equal(judgeRef(open, update(ref, { fastForward: false })).allowed, true);
    assert.equal(judgeRef(policy, update(ref, { old: ZERO_ID, fastForward: false })).allowed, true);
  });

  it("refuses the whole push for one bad ref or too many bytes", () => {
    const good = update("refs/heads/bottle/dev-k3x9q2/feature");
    assert.equal(judgePush(policy, [good], 999).allowed, true);
    const mixed = judgePush(policy, [good, update("refs/heads/main")], 10);
    assert.equal(mixed.allowed, false);
    assert.match(mixed.reason, /main is protected/);
    assert.match(judgePush(policy, [good], 1001).reason, /1001 bytes, more than the 1000/);
  });

  it("tells an allowed ref of a refused push which other refs were refused", () => {
    const verdicts = [
      judgeRef(policy, update("refs/heads/bottle/dev-k3x9q2/ok")),
      judgeRef(policy, update("refs/heads/main")),
      judgeRef(policy, update("refs/heads/release/1", { fastForward: false })),
    ];
    const byRef = refusalsByRef(verdicts);
    assert.match(byRef.get("refs/heads/main") ?? "", /^main is protected/);
    assert.match(byRef.get("refs/heads/release/1") ?? "", /would be rewritten/);
    assert.equal(
      byRef.get("refs/heads/bottle/dev-k3x9q2/ok"),
      "bottle/dev-k3x9q2/ok itself is allowed, but was not sent: the push is refused whole because other refs were refused (main, release/1)",
    );
  });
});
