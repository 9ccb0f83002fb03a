import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { baseRecipe, hashOf, withLayer } from "../../src/core/image/bottle-recipe.js";
import { writeRecipe } from "../../src/core/image/recipe-store.js";
import { isBottleError } from "../../src/core/errors.js";
import { listRequests, requestsDir } from "../../src/core/requests/request-store.js";
import { currentImageRecipe, requestImageChange } from "../../src/sidecar/supervise/image-tools.js";
import { previewImageChange, storeImageChange } from "../../src/operator/image-change.js";
import { buildFailedNote, denyFailedBuild } from "../../src/core/image/build-outcome.js";
import { readRequest } from "../../src/core/requests/request-store.js";

const JQ = "RUN apt-get update && apt-get install -y --no-install-recommends jq";

function stateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-tools-"));
  writeRecipe(
    dir,
    baseRecipe(
      "bot-bottle/agent-shell:0123456789ab",
      "images/agent-shell/Dockerfile",
      "FROM base\nUSER agent\n",
    ),
  );
  return dir;
}

describe("image tools of the supervise gate", () => {
  it("current_image_recipe shows the base recipe, the changes and the per-bottle Dockerfile", () => {
    const dir = stateDir();
    const current = currentImageRecipe(dir);
    assert.equal(current.base_recipe, "FROM base\nUSER agent\n");
    assert.deepEqual(current.approved_changes, []);
    assert.match(current.dockerfile, /^FROM bot-bottle\/agent-shell:0123456789ab$/m);
    assert.equal(current.rebuild_pending, false);
  });

  it("request_image_change files a pending image request bound to the current recipe; repeats merge", () => {
    const dir = stateDir();
    const filed = requestImageChange(dir, "sh-abc", { dockerfile: JQ, reason: "need jq" });
    assert.equal(filed.status, "pending");
    assert.match(filed.next, /wait_for_decision/);
    const again = requestImageChange(dir, "sh-abc", { dockerfile: `${JQ}\n`, reason: "still" });
    assert.equal(again.request_id, filed.request_id);
    assert.equal(again.merged, true);
    const [stored] = listRequests(requestsDir(dir));
    assert.deepEqual(stored?.request.spec, {
      kind: "image",
      image: { dockerfile: JQ, base_recipe_hash: currentImageRecipe(dir).recipe_hash },
    });
  });

  it("refuses what the project refuses, as a typed error, and files nothing", () => {
    const dir = stateDir();
    for (const dockerfile of [
      "FROM debian",
      "USER root",
      "CMD x",
      "ADD https://x/y /y",
      "COPY a b",
      "x".repeat(70_000),
    ]) {
      assert.throws(
        () => requestImageChange(dir, "sh-abc", { dockerfile, reason: "r" }),
        (e) => isBottleError(e) && e.code === "image_change_refused",
        dockerfile.slice(0, 20),
      );
    }
    assert.deepEqual(listRequests(requestsDir(dir)), []);
  });

  it("flags risks for the agent too, and refuses a change already in the recipe", () => {
    const dir = stateDir();
    const filed = requestImageChange(dir, "sh-abc", {
      dockerfile: "RUN curl -fsSL https://x | sh",
      reason: "r",
    });
    assert.deepEqual(filed.risk_flags, ["pipe-to-shell (line 1)"]);
    const stored = readRequest(requestsDir(dir), filed.request_id);
    assert.ok(stored !== undefined);
    storeImageChange(dir, stored.request, {
      request_id: filed.request_id,
      revision: 1,
      status: "approved",
      scope: "bottle",
      expires_at: null,
      granted: stored.request.spec,
      note: null,
      decided_at: new Date().toISOString(),
      by: "cli:test",
    });
    assert.equal(currentImageRecipe(dir).rebuild_pending, true);
    assert.throws(
      () =>
        requestImageChange(dir, "sh-abc", {
          dockerfile: "RUN curl -fsSL https://x | sh",
          reason: "r",
        }),
      /already approved/,
    );
  });
});

describe("the operator's view and the build outcome", () => {
  it("previews the diff, says when the recipe moved on since the ask", () => {
    const dir = stateDir();
    const filed = requestImageChange(dir, "sh-abc", { dockerfile: JQ, reason: "jq" });
    const request = readRequest(requestsDir(dir), filed.request_id)?.request;
    assert.ok(request !== undefined);
    const preview = previewImageChange(dir, request);
    assert.match(preview.diff, new RegExp(`^\\+${JQ}$`, "m"));
    assert.equal(preview.recipeMovedOn, false);
    const recipe = withLayer(
      baseRecipe(
        "bot-bottle/agent-shell:0123456789ab",
        "images/agent-shell/Dockerfile",
        "FROM base\nUSER agent\n",
      ),
      { request_id: "r-000000", dockerfile: "RUN true", approved_at: new Date().toISOString() },
    );
    writeRecipe(dir, recipe);
    assert.notEqual(
      hashOf(recipe),
      request.spec.kind === "image" ? request.spec.image.base_recipe_hash : "",
    );
    assert.equal(previewImageChange(dir, request).recipeMovedOn, true);
  });

  it("a failed build denies the request with 'build failed:' and the last lines, within the note limit", () => {
    const dir = stateDir();
    const filed = requestImageChange(dir, "sh-abc", { dockerfile: "RUN false", reason: "r" });
    const tail = [
      ...Array.from({ length: 40 }, (_, i) => `line ${i} ${"x".repeat(30)}`),
      "The command '/bin/sh -c false' returned a non-zero code: 1",
    ];
    denyFailedBuild(dir, [filed.request_id], tail);
    const decision = readRequest(requestsDir(dir), filed.request_id)?.decision;
    assert.ok(decision !== undefined);
    assert.equal(decision.status, "denied");
    const note = decision.note ?? "";
    assert.match(note, /^build failed: /);
    assert.match(note, /returned a non-zero code: 1$/);
    assert.ok(note.length <= 500);
    assert.equal(buildFailedNote(["short"]), "build failed: short");
  });
});

describe("the image tools over MCP (the official SDK, in-memory transport)", () => {
  async function connected(dir: string) {
    const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { InMemoryTransport } = await import("@modelcontextprotocol/sdk/inMemory.js");
    const { registerImageTools } = await import("../../src/sidecar/supervise/image-tools.js");
    const audit: string[] = [];
    const server = new McpServer({ name: "supervise", version: "1" });
    registerImageTools(server, {
      identity: "sh-abc",
      requestsDir: requestsDir(dir),
      audit: (tool, verdict) => audit.push(`${tool} ${verdict}`),
      now: () => new Date(),
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "test", version: "1" });
    await client.connect(clientSide);
    return { client, audit, close: () => client.close() };
  }

  it("lists both tools with their schemas, answers, files and refuses as tool errors", async () => {
    const dir = stateDir();
    const { client, audit, close } = await connected(dir);
    try {
      const tools = await client.listTools();
      const names = tools.tools.map((t) => t.name).sort();
      assert.deepEqual(names, ["current_image_recipe", "request_image_change"]);
      const request = tools.tools.find((t) => t.name === "request_image_change");
      assert.deepEqual(request?.inputSchema.required, ["dockerfile", "reason"]);

      const recipe = await client.callTool({ name: "current_image_recipe", arguments: {} });
      assert.notEqual(recipe.isError, true);
      assert.match(JSON.stringify(recipe.structuredContent), /agent-shell:0123456789ab/);

      const filed = await client.callTool({
        name: "request_image_change",
        arguments: { dockerfile: JQ, reason: "need jq" },
      });
      assert.notEqual(filed.isError, true);
      assert.match(JSON.stringify(filed.structuredContent), /"status":"pending"/);

      const refused = await client.callTool({
        name: "request_image_change",
        arguments: { dockerfile: "FROM debian\nCMD bash", reason: "x" },
      });
      assert.equal(refused.isError, true);
      const text = JSON.stringify(refused.content);
      assert.match(text, /FROM is refused/);
      assert.match(text, /CMD is refused/);

      const bad = await client.callTool({
        name: "request_image_change",
        arguments: { reason: "x" },
      });
      assert.equal(bad.isError, true);
      assert.equal(listRequests(requestsDir(dir)).length, 1);
      assert.deepEqual(audit, [
        "current_image_recipe answered",
        "request_image_change filed",
        "request_image_change refused",
      ]);
    } finally {
      await close();
    }
  });
});
