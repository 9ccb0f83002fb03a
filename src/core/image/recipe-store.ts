/**
 * A bottle's image recipe on disk: `state/<identity>/image/`, written by the host only (the
 * sidecar reads it for current_image_recipe through its state mount):
 *
 *   recipe.json   the BottleRecipe (agent image, approved changes, what the agent started on)
 *   Dockerfile    the rendered per-bottle Dockerfile, for the operator to read
 *   build.log     the last build's output
 *
 * Files are 0644: they hold instructions, never a secret.
 */
import fs from "node:fs";
import path from "node:path";
import { parseContract } from "../contract/contract.js";
import { writeJsonAtomic } from "../state/bottle-state.js";
import type { BottleRecipe } from "./bottle-recipe.js";
import { bottleRecipeSchema, renderRecipe } from "./bottle-recipe.js";

export const IMAGE_DIR = "image";

export function imageDir(stateDir: string): string {
  return path.join(stateDir, IMAGE_DIR);
}

function recipeFile(stateDir: string): string {
  return path.join(imageDir(stateDir), "recipe.json");
}

export function buildLogFile(stateDir: string): string {
  return path.join(imageDir(stateDir), "build.log");
}

/** The bottle's recipe, or undefined before its first start. Throws on a malformed file. */
export function readRecipe(stateDir: string): BottleRecipe | undefined {
  let text: string;
  try {
    text = fs.readFileSync(recipeFile(stateDir), "utf8");
  } catch {
    return undefined;
  }
  return parseContract(bottleRecipeSchema, JSON.parse(text) as unknown, "image/recipe.json");
}

/** Writes recipe.json and the rendered Dockerfile beside it (each atomically). */
export function writeRecipe(stateDir: string, recipe: BottleRecipe): void {
  const checked = parseContract(bottleRecipeSchema, recipe, "image recipe");
  const dir = imageDir(stateDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeJsonAtomic(recipeFile(stateDir), checked, 0o644);
  const dockerfile = path.join(dir, "Dockerfile");
  const temp = `${dockerfile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, renderRecipe(checked), { mode: 0o644 });
  fs.renameSync(temp, dockerfile);
}
