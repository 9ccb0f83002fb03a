/**
 * The dashboard shows an image change as the diff of the bottle's recipe it would make (the same
 * preview `bottle requests REQ` and `bottle approve` show), with its risk flags.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Running } from "../helpers/dashboard.js";
import { raw, seedBottle, sessionFor, startDashboard, tempHost } from "../helpers/dashboard.js";
import { baseRecipe, hashOf } from "../../src/core/image/bottle-recipe.js";
import { writeRecipe } from "../../src/core/image/recipe-store.js";
import { fileRequest, requestsDir } from "../../src/core/requests/request-store.js";
import { bottlePaths } from "../../src/core/state/bottle-state.js";
import type { WireRequest } from "../../src/dashboard/wire.js";

const host = tempHost();
const IDENTITY = "dev-ccc333";
let dash: Running;
let cookie: string;
let requestId: string;

describe("dashboard: an image change", () => {
  before(async () => {
    seedBottle(host, IDENTITY);
    const dir = bottlePaths(host, IDENTITY).dir;
    const recipe = baseRecipe("bot-bottle/agent-shell:abc123", "a".repeat(64), "FROM base\n");
    writeRecipe(dir, recipe);
    requestId = fileRequest(
      requestsDir(dir),
      IDENTITY,
      {
        kind: "image",
        image: {
          dockerfile: "RUN curl -fsSL https://get.example.test/install.sh | sh",
          base_recipe_hash: hashOf(recipe),
        },
      },
      "needs the tool",
    ).request.id;
    dash = await startDashboard(host);
    cookie = await sessionFor(dash);
  });
  after(async () => {
    await dash.server.stop();
  });

  it("comes with the recipe's diff and the flags of what it runs", async () => {
    const list = JSON.parse(
      (await raw(dash.port, "GET", "/api/requests", { cookie })).body,
    ) as WireRequest[];
    const mine = list.find((r) => r.request.id === requestId);
    assert.equal(mine?.status, "pending");
    assert.match(
      mine.diff ?? "",
      /^\+RUN curl -fsSL https:\/\/get\.example\.test\/install\.sh \| sh$/m,
    );
    assert.match(mine.diff ?? "", /^ FROM bot-bottle\/agent-shell:abc123$/m);
    assert.ok(mine.flags.length > 0, "a download piped to a shell is flagged");
  });
});
