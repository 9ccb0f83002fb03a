/**
 * A bottle's own agent image: its plan's agent image with the image changes the operator
 * approved (core/image/bottle-recipe.ts), built from the per-bottle Dockerfile alone (the build
 * context holds nothing else) and tagged by the recipe's content hash, so the same recipe is
 * built once. The build's RUN steps have the engine's build network, like any `docker build`;
 * the bottle that runs the image has none.
 */
import fs from "node:fs";
import path from "node:path";
import type { EngineClient } from "./engine-client.js";
import { isBottleError } from "../../core/errors.js";
import type { BottleRecipe } from "../../core/image/bottle-recipe.js";
import {
  agentImageOf,
  baseRecipe,
  hashOf,
  rebuildPending,
  renderRecipe,
  withoutLayers,
} from "../../core/image/bottle-recipe.js";
import { denyFailedBuild } from "../../core/image/build-outcome.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { readMetadata } from "../../core/state/bottle-state.js";
import { buildLogFile, readRecipe, writeRecipe } from "../../core/image/recipe-store.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import type { Progress } from "./build-image.js";
import { buildFromContext, ensureImage, imageExists } from "./build-image.js";

/** The recipe of a bottle, made from its plan at the first start (no changes yet). */
export function recipeFor(root: string, plan: BottlePlan, stateDir: string): BottleRecipe {
  const found = readRecipe(stateDir);
  if (found !== undefined) return found;
  const file = path.isAbsolute(plan.images.agent.dockerfile)
    ? plan.images.agent.dockerfile
    : path.join(root, plan.images.agent.dockerfile);
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    // A missing recipe fails the image build with its own message; the text is informative only.
  }
  const recipe = baseRecipe(plan.images.agent.tag, plan.images.agent.dockerfile, text);
  writeRecipe(stateDir, recipe);
  return recipe;
}

/**
 * The layers approved since the agent last started (they wait for a rebuild): those after the
 * longest prefix whose recipe hash is the started one.
 */
export function unbuiltLayers(recipe: BottleRecipe): string[] {
  const ids = recipe.layers.map((l) => l.request_id);
  if (recipe.started_hash === null) return ids;
  for (let keep = recipe.layers.length; keep > 0; keep--) {
    const prefix = { ...recipe, layers: recipe.layers.slice(0, keep) };
    if (hashOf(prefix) === recipe.started_hash) return ids.slice(keep);
  }
  return ids;
}

/**
 * Ensures the image a recipe names exists: the plan's agent image first, then the layered image
 * on it when there are changes. Streams the build's output to `progress` and keeps it in
 * image/build.log. Throws BottleError `image_build_failed` with the last lines on failure.
 */
export async function ensureRecipeImage(
  docker: EngineClient,
  root: string,
  plan: BottlePlan,
  stateDir: string,
  recipe: BottleRecipe,
  progress: Progress,
): Promise<{ tag: string; built: boolean }> {
  await ensureImage(docker, root, plan.images.agent, progress);
  const image = agentImageOf(recipe);
  if (!image.layered || (await imageExists(docker, image.tag))) {
    if (image.layered) progress(`image ${image.tag} is already built (same recipe)`);
    return { tag: image.tag, built: false };
  }
  progress(`building the bottle's image ${image.tag} (${recipe.layers.length} approved change(s))`);
  await buildFromContext(docker, {
    files: [{ name: "Dockerfile", content: Buffer.from(renderRecipe(recipe)) }],
    tag: image.tag,
    buildargs: {},
    role: "image-agent-layered",
    progress,
    streamAll: true,
    output: (text) => {
      fs.writeFileSync(buildLogFile(stateDir), text, { mode: 0o644 });
    },
    hint: `The build's last lines are above; the whole output is in ${buildLogFile(stateDir)}.`,
  });
  return { tag: image.tag, built: true };
}

/** Records that the agent now runs on this recipe (no rebuild pending). */
export function markStarted(stateDir: string, recipe: BottleRecipe): void {
  writeRecipe(stateDir, {
    ...recipe,
    started_hash: recipe.layers.length === 0 ? null : hashOf(recipe),
  });
}

/** Takes back changes whose build failed, so the bottle keeps (or resumes on) its last image. */
export function takeBack(stateDir: string, recipe: BottleRecipe, ids: readonly string[]) {
  const back = withoutLayers(recipe, ids);
  writeRecipe(stateDir, back);
  return back;
}

/**
 * The agent image to start on: the bottle's recipe (its agent image and approved changes), built
 * if needed. When approved changes fail to build, they are taken back (their requests denied with
 * the build's last lines) and the bottle starts on its last image.
 */
export async function agentImageFor(
  docker: EngineClient,
  root: string,
  plan: BottlePlan,
  stateDir: string,
  progress: Progress,
): Promise<{ recipe: BottleRecipe; tag: string }> {
  const recipe = recipeFor(root, plan, stateDir);
  try {
    const { tag } = await ensureRecipeImage(docker, root, plan, stateDir, recipe, progress);
    return { recipe, tag };
  } catch (error) {
    const unbuilt = unbuiltLayers(recipe);
    if (!isBottleError(error) || error.code !== "image_build_failed" || unbuilt.length === 0)
      throw error;
    progress(`warning: ${error.message}`);
    for (const line of error.details) progress(`  ${line}`);
    denyFailedBuild(stateDir, unbuilt, error.details);
    progress(
      `the approved image change(s) ${unbuilt.join(", ")} were taken back; starting on the last image`,
    );
    const back = takeBack(stateDir, recipe, unbuilt);
    const { tag } = await ensureRecipeImage(docker, root, plan, stateDir, back, progress);
    return { recipe: back, tag };
  }
}

/**
 * Builds the image of a bottle's recipe when changes wait for it (false when none do). A failed
 * build takes the changes back, denies their requests with the build's last lines and throws.
 */
export async function buildPendingImage(
  docker: EngineClient,
  root: string,
  plan: BottlePlan,
  stateDir: string,
  progress: Progress,
): Promise<boolean> {
  const recipe = readRecipe(stateDir);
  if (recipe === undefined || !rebuildPending(recipe)) return false;
  try {
    await ensureRecipeImage(docker, root, plan, stateDir, recipe, progress);
    return true;
  } catch (error) {
    if (isBottleError(error) && error.code === "image_build_failed") {
      const unbuilt = unbuiltLayers(recipe);
      denyFailedBuild(stateDir, unbuilt, error.details);
      takeBack(stateDir, recipe, unbuilt);
    }
    throw error;
  }
}

/**
 * Waits while a bottle restarts on a new image (status `restarting`, then `starting`); true once
 * it runs again, false when it was not restarting or did not come back in time.
 */
export async function waitWhileRestarting(
  paths: BottlePaths,
  timeoutMs = 30 * 60_000,
): Promise<boolean> {
  if (readMetadata(paths)?.status !== "restarting") return false;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const status = readMetadata(paths)?.status;
    if (status === "running") return true;
    if (status !== "restarting" && status !== "starting") return false;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}
