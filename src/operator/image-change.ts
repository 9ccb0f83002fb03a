/**
 * Image changes for the operator (CLI `bottle requests`/`approve`, the dashboard): what a change
 * looks like against the bottle's recipe, storing an approved one, and restarting the bottle on
 * its new image. No terminal I/O: progress goes to the given callback.
 *
 * Restart order: build first while the bottle runs on (a failed build leaves it running on its old
 * image, takes the change back and denies its request with the build's last lines), then stop
 * (workspace and the agent's home with its transcripts saved), then resume on the new image with
 * the same identity, policy, workspace and conversation.
 */
import type { BottleRecipe, ImageChangeView } from "../core/image/bottle-recipe.js";
import { rebuildPending, viewImageChange, withLayer } from "../core/image/bottle-recipe.js";
import { RESTARTED_NOTE, STORED_NOTE, noteApproval } from "../core/image/build-outcome.js";
import type { ImageRisk } from "../core/image/image-risk.js";
import { imageRisks } from "../core/image/image-risk.js";
import { readRecipe, writeRecipe } from "../core/image/recipe-store.js";
import { BottleError } from "../core/errors.js";
import type { BottleRequest, Decision } from "../core/requests/request.js";

export interface ImageChangePreview extends ImageChangeView {
  risks: ImageRisk[];
  /** The bottle's recipe changed after the request was filed (the diff is against the new one). */
  recipeMovedOn: boolean;
}

function recipeOf(stateDir: string, identity: string): BottleRecipe {
  const recipe = readRecipe(stateDir);
  if (recipe === undefined) {
    throw new BottleError("state_invalid", `Bottle ${identity} has no image recipe yet.`, {
      hint: "It is written at the bottle's first start; start or resume the bottle, then approve.",
    });
  }
  return recipe;
}

function layerOf(request: BottleRequest, decidedAt: string) {
  if (request.spec.kind !== "image") throw new Error(`${request.id} is not an image request`);
  return {
    request_id: request.id,
    dockerfile: request.spec.image.dockerfile,
    approved_at: decidedAt,
  };
}

/** What approving an image request would change: the diff, the risk flags. Writes nothing. */
export function previewImageChange(stateDir: string, request: BottleRequest): ImageChangePreview {
  if (request.spec.kind !== "image") throw new Error(`${request.id} is not an image request`);
  const recipe = recipeOf(stateDir, request.identity);
  const view = viewImageChange(recipe, layerOf(request, new Date().toISOString()));
  return {
    ...view,
    risks: imageRisks(request.spec.image.dockerfile),
    recipeMovedOn: view.currentHash !== request.spec.image.base_recipe_hash,
  };
}

/**
 * Stores an approved change in `state/<identity>/image/` (the bottle is then marked for a
 * rebuild) and sets the approval's note. Called after the decision file was written.
 */
export function storeImageChange(
  stateDir: string,
  request: BottleRequest,
  decision: Decision,
): { rebuildPending: boolean } {
  const recipe = withLayer(
    recipeOf(stateDir, request.identity),
    layerOf(request, decision.decided_at),
  );
  writeRecipe(stateDir, recipe);
  noteApproval(stateDir, request.id, STORED_NOTE);
  return { rebuildPending: rebuildPending(recipe) };
}

/** The backend operations a restart needs (the Docker backend has them). */
export interface RestartingBackend {
  metadata(identity: string): { status: string };
  buildPendingImage(identity: string, progress: (line: string) => void): Promise<boolean>;
  stop(identity: string, options: { restarting?: boolean }): Promise<void>;
  resume(identity: string, progress: (line: string) => void): Promise<unknown>;
}

export type RestartOutcome = "restarted" | "not-running" | "nothing-to-rebuild";

/**
 * Builds a running bottle's new image and restarts it on it; `requestIds` get the restarted note.
 * A bottle that is not running is left alone (its next resume rebuilds). Throws BottleError
 * `image_build_failed` (details: the build's last lines) with the bottle still running.
 */
export async function restartOnNewImage(
  backend: RestartingBackend,
  stateDir: string,
  identity: string,
  requestIds: readonly string[],
  progress: (line: string) => void,
): Promise<RestartOutcome> {
  if (backend.metadata(identity).status !== "running") return "not-running";
  const recipe = readRecipe(stateDir);
  if (recipe === undefined || !rebuildPending(recipe)) return "nothing-to-rebuild";
  await backend.buildPendingImage(identity, progress);
  progress(`restarting ${identity} on its new image (workspace and conversation kept)`);
  await backend.stop(identity, { restarting: true });
  await backend.resume(identity, progress);
  for (const id of requestIds) noteApproval(stateDir, id, RESTARTED_NOTE);
  return "restarted";
}
