/**
 * What `bottle attach` runs: the resume command when the agent's home holds a conversation (the
 * probe of the plan's provider says so), else the program afresh; a shell never continues.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachCommandOf, conversationProbeOf } from "../../src/core/plan/attach-command.js";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";

function plan(provider: string, command: string[], resume: string[]): BottlePlan {
  return { provider, command, resume_command: resume } as unknown as BottlePlan;
}

describe("attach command", () => {
  it("continues a conversation there is, and starts afresh when there is none", () => {
    const claude = plan("claude", ["claude"], ["claude", "--continue"]);
    assert.deepEqual(attachCommandOf(claude, true), ["claude", "--continue"]);
    assert.deepEqual(attachCommandOf(claude, false), ["claude"]);
  });

  it("asks Claude Code's and Codex's transcript folders; a shell has nothing to continue", () => {
    assert.match(
      (conversationProbeOf(plan("claude", [], [])) ?? []).join(" "),
      /\/home\/agent\/\.claude\/projects\/-workspace\/\*\.jsonl/,
    );
    assert.match(
      (conversationProbeOf(plan("codex", [], [])) ?? []).join(" "),
      /\/home\/agent\/\.codex\/sessions/,
    );
    assert.equal(conversationProbeOf(plan("shell", ["bash", "-l"], ["bash", "-l"])), undefined);
    assert.equal(conversationProbeOf(plan("other", [], [])), undefined);
  });
});
