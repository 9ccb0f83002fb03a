import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";
import { PLACEHOLDER_KEY, provisionFiles } from "../../src/providers/provision.js";

describe("provisionFiles", () => {
  it("trusts the workspace and approves only the placeholder key for Claude Code", () => {
    const files = provisionFiles({ provider: "claude" } as BottlePlan);
    assert.equal(files.length, 1);
    const file = files[0];
    assert.ok(file);
    assert.equal(file.path, "/home/agent/.claude.json");
    const state = JSON.parse(file.content) as {
      hasCompletedOnboarding: boolean;
      projects: Record<string, { hasTrustDialogAccepted: boolean }>;
      customApiKeyResponses: { approved: string[] };
    };
    assert.equal(state.hasCompletedOnboarding, true);
    assert.equal(state.projects["/workspace"]?.hasTrustDialogAccepted, true);
    assert.deepEqual(state.customApiKeyResponses.approved, [PLACEHOLDER_KEY.slice(-20)]);
  });

  it("writes nothing for the shell", () => {
    assert.deepEqual(provisionFiles({ provider: "shell" } as BottlePlan), []);
  });
});
