/**
 * PURE: a bottle's own image recipe: the agent image it started from (its content-hash tag) and
 * the image changes the operator approved, in order. The project writes the Dockerfile around
 * them: the FROM line, `USER root` so the changes can install packages, and, after the last
 * change, the bottle's user and workspace again. Whatever a change does, the run's hardening is
 * set by the backend at run time (uid, capabilities, no-new-privileges, no network), not here.
 *
 * The rendered text holds nothing but content (no identity, request id or date), so its hash
 * names what gets built: the same recipe, in any bottle, is built once.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { WORKSPACE_DIR } from "../plan/layout.js";
import { parseDockerfile } from "./dockerfile-syntax.js";
import { validateLayer } from "./layer-validation.js";
import { unifiedDiff } from "./unified-diff.js";

/** The uid:gid every bottle runs as (the agent images' `agent` user). */
export const BOTTLE_USER = "1500:1500";

export const imageLayerSchema = z.strictObject({
  /** The request the change came from. */
  request_id: z.string(),
  /** The instructions as approved (validated when filed and again when approved). */
  dockerfile: z.string(),
  approved_at: z.iso.datetime(),
});

export const bottleRecipeSchema = z.strictObject({
  version: z.literal(1),
  base: z.strictObject({
    /** The agent image the changes are layered on (its tag names its content). */
    tag: z.string().min(1),
    /** Where that image's Dockerfile came from (a recipe under images/ or the manifest's). */
    recipe: z.string(),
    /** That Dockerfile's text, shown to the agent by current_image_recipe. */
    dockerfile: z.string(),
  }),
  layers: z.array(imageLayerSchema),
  /**
   * Hash of the recipe the bottle's agent last started on, or null for its plain agent image.
   * A recipe whose hash differs waits for a rebuild (at restart or the next resume).
   */
  started_hash: z.string().nullable(),
});

export type ImageLayer = z.infer<typeof imageLayerSchema>;
export type BottleRecipe = z.infer<typeof bottleRecipeSchema>;

export function baseRecipe(tag: string, recipe: string, dockerfile: string): BottleRecipe {
  return { version: 1, base: { tag, recipe, dockerfile }, layers: [], started_hash: null };
}

/** The per-bottle Dockerfile. With no layers it is still a valid one (FROM the agent image). */
export function renderRecipe(recipe: BottleRecipe): string {
  const out = [
    "# A bottle's image, written by bot-bottle: its agent image and the image changes the operator",
    "# approved, in order. The FROM line and the lines after the last change are the project's.",
    `FROM ${recipe.base.tag}`,
    "USER root",
  ];
  recipe.layers.forEach((layer, index) => {
    out.push("", `# change ${index + 1}`, layer.dockerfile.trimEnd());
  });
  out.push("", "# end of the approved changes", `USER ${BOTTLE_USER}`, `WORKDIR ${WORKSPACE_DIR}`);
  return `${out.join("\n")}\n`;
}

export function recipeHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The hash of a recipe's rendered Dockerfile. */
export function hashOf(recipe: BottleRecipe): string {
  return recipeHash(renderRecipe(recipe));
}

/** The tag of the image built from a recipe with this hash. */
export function layeredTag(hash: string): string {
  return `bot-bottle/agent-layered:${hash.slice(0, 16)}`;
}

/** The image the bottle's agent runs on: its agent image when no change was approved. */
export function agentImageOf(recipe: BottleRecipe): { tag: string; layered: boolean } {
  if (recipe.layers.length === 0) return { tag: recipe.base.tag, layered: false };
  return { tag: layeredTag(hashOf(recipe)), layered: true };
}

/** Whether approved changes wait for a rebuild: the recipe is not the one the agent started on. */
export function rebuildPending(recipe: BottleRecipe): boolean {
  const current = recipe.layers.length === 0 ? null : hashOf(recipe);
  return current !== recipe.started_hash;
}

/**
 * The recipe with one more change (validated again here: the request file is never trusted).
 * A change whose text is already a layer adds nothing: approving the same recipe twice builds
 * nothing.
 */
export function withLayer(recipe: BottleRecipe, layer: ImageLayer): BottleRecipe {
  validateLayer(layer.dockerfile);
  if (recipe.layers.some((l) => l.dockerfile.trimEnd() === layer.dockerfile.trimEnd()))
    return recipe;
  const next = { ...recipe, layers: [...recipe.layers, layer] };
  assertProjectFrame(renderRecipe(next));
  return next;
}

/** The recipe without the changes of the given requests (a build that failed is taken back). */
export function withoutLayers(recipe: BottleRecipe, requestIds: readonly string[]): BottleRecipe {
  return { ...recipe, layers: recipe.layers.filter((l) => !requestIds.includes(l.request_id)) };
}

/**
 * Defence in depth: the rendered file has one FROM (the project's, first) and ends with the
 * project's USER and WORKDIR, whatever the changes hold.
 */
export function assertProjectFrame(text: string): void {
  const instructions = parseDockerfile(text).instructions;
  const froms = instructions.filter((i) => i.keyword === "FROM");
  const [last, beforeLast] = [instructions.at(-1), instructions.at(-2)];
  if (
    froms.length !== 1 ||
    instructions[0]?.keyword !== "FROM" ||
    last?.keyword !== "WORKDIR" ||
    beforeLast?.keyword !== "USER" ||
    beforeLast.args !== BOTTLE_USER
  ) {
    throw new Error("the rendered image recipe lost the project's frame");
  }
}

export interface ImageChangeView {
  /** Unified diff of the current recipe and the recipe with the change. */
  diff: string;
  currentHash: string;
  proposedHash: string;
  /** True when the change is already part of the recipe (approving it builds nothing). */
  alreadyThere: boolean;
}

/** What the operator is shown for a proposed change. Throws when the change is refused. */
export function viewImageChange(recipe: BottleRecipe, layer: ImageLayer): ImageChangeView {
  const next = withLayer(recipe, layer);
  const before = renderRecipe(recipe);
  const after = renderRecipe(next);
  return {
    diff: unifiedDiff(before, after, "current recipe", "with this change"),
    currentHash: recipeHash(before),
    proposedHash: recipeHash(after),
    alreadyThere: next === recipe,
  };
}
