import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { PushPolicy } from "../../src/sidecar/git/push-policy.js";
import { judgeRef } from "../../src/sidecar/git/push-policy.js";
import { refFormatProblem, refNameProblem } from "../../src/sidecar/git/ref-name.js";

/** Names git's check-ref-format takes or refuses; the test asks git itself which. */
const NAMES = [
  "refs/heads/main",
  "refs/heads/bottle/t1/feature",
  "refs/heads/bottle/t1/..",
  "refs/heads/bottle/t1/.",
  "refs/heads/bottle/t1/.hidden",
  "refs/heads/bottle/t1/x.lock",
  "refs/heads/bottle/t1/x.lock/y",
  "refs/heads/bottle/t1/x.locked",
  "refs/heads/bottle/t1/x.",
  "refs/heads/bottle/t1/a..b",
  "refs/heads/bottle/t1/a.b",
  "refs/heads/bottle/t1/@{-1}",
  "refs/heads/bottle/t1/a@b",
  "refs/heads/bottle/t1/@",
  "@",
  "@{-1}",
  "refs/heads/bottle/t1/",
  "refs/heads/bottle//t1",
  "/refs/heads/x",
  "refs/heads/",
  "refs/heads",
  "main",
  "refs/heads/a b",
  "refs/heads/a~1",
  "refs/heads/a^",
  "refs/heads/a:b",
  "refs/heads/a?",
  "refs/heads/a*",
  "refs/heads/a[b",
  "refs/heads/a]b",
  "refs/heads/a\\b",
  "refs/heads/a\tb",
  "refs/heads/a\nb",
  "refs/heads/a\x01b",
  "refs/heads/a\x7fb",
  "refs/heads/a{b}",
  "refs/heads/ünïcode",
  "refs/heads/a-b_c+d=e,f!g#h%i&j'k\"l",
  "refs/heads/.lock",
  "refs/heads/a/.b",
  "refs/tags/v1.0",
  "refs/notes/commits",
  "refs/heads/x.lock.lock",
];

function gitTakes(name: string): boolean {
  return spawnSync("git", ["check-ref-format", name]).status === 0;
}

describe("ref names", () => {
  for (const name of NAMES) {
    it(`judges ${JSON.stringify(name)} as git check-ref-format does`, () => {
      const problem = refFormatProblem(name);
      assert.equal(problem === null, gitTakes(name), problem ?? "taken");
    });
  }

  it("refuses a NUL, which git cannot even be handed as an argument", () => {
    assert.notEqual(refFormatProblem("refs/heads/a\0b"), null);
  });

  it("takes only branches and tags, with a name after the prefix", () => {
    assert.equal(refNameProblem("refs/heads/bottle/t1/x"), null);
    assert.equal(refNameProblem("refs/tags/v1"), null);
    assert.match(refNameProblem("refs/heads/") ?? "", /not a valid ref name/);
    assert.match(refNameProblem("refs/notes/commits") ?? "", /neither a branch .* nor a tag/);
    assert.match(refNameProblem("refs/bottle/x") ?? "", /neither a branch/);
    assert.match(refNameProblem("refs/heads/a\x01b") ?? "", /"refs\/heads\/a\\x01b"/);
  });

  it("refuses a funny name before any branch pattern can match it", () => {
    const policy: PushPolicy = {
      branches: ["bottle/t1/*", "refs/**"],
      force: true,
      delete: true,
      max_size_bytes: 1000,
    };
    const update = (ref: string) => ({
      ref,
      old: "a".repeat(40),
      new: "b".repeat(40),
      fastForward: true,
    });
    for (const ref of [
      "refs/heads/bottle/t1/..",
      "refs/heads/bottle/t1/x.lock",
      "refs/heads/bottle/t1/@{-1}",
      "refs/notes/x",
    ]) {
      const verdict = judgeRef(policy, update(ref));
      assert.equal(verdict.allowed, false, ref);
    }
    assert.equal(judgeRef(policy, update("refs/heads/bottle/t1/ok")).allowed, true);
  });
});
