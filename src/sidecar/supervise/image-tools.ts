/**
 * The supervise gate's image tools, as handlers the MCP server registers:
 *
 *   current_image_recipe                    the instructions the bottle's image was built from
 *   request_image_change {dockerfile, reason}  files an image request (never blocks)
 *
 * They read the bottle's recipe (`image/recipe.json`, written by the host) and file requests in
 * `requests/` through the request store; nothing here can approve or build anything. A refused
 * change is a BottleError `image_change_refused` whose message and details say what to fix; the
 * server turns it into a tool error.
 */
import path from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { hashOf, rebuildPending, renderRecipe } from "../../core/image/bottle-recipe.js";
import { imageRisks } from "../../core/image/image-risk.js";
import { validateLayer } from "../../core/image/layer-validation.js";
import { readRecipe } from "../../core/image/recipe-store.js";
import { BottleError, isBottleError } from "../../core/errors.js";
import { fileRequest, requestsDir } from "../../core/requests/request-store.js";

export const requestImageChangeInput = z.strictObject({
  dockerfile: z
    .string()
    .describe(
      "Dockerfile instructions to add on top of this bottle's current image, e.g. `RUN apt-get update && apt-get install -y --no-install-recommends jq`. They run as root; the bottle still runs as its own user. No FROM (bot-bottle writes it), no COPY or ADD (the build context is empty), no ENTRYPOINT or CMD, no heredocs; at most 64 KB.",
    ),
  reason: z
    .string()
    .describe("Why you need it, in one or two sentences; the operator reads it beside the diff."),
});

export interface CurrentImageRecipe {
  /** The Dockerfile of the bottle's agent image (before any change). */
  base_recipe: string;
  /** Changes the operator approved, in order. */
  approved_changes: { request_id: string; dockerfile: string; approved_at: string }[];
  /** The per-bottle Dockerfile the bottle's image is built from (FROM written by bot-bottle). */
  dockerfile: string;
  recipe_hash: string;
  /** Approved changes not in the running image yet (they arrive at the next restart or resume). */
  rebuild_pending: boolean;
}

function recipeOrRefuse(stateDir: string) {
  const recipe = readRecipe(stateDir);
  if (recipe === undefined) {
    throw new BottleError("state_invalid", "This bottle has no image recipe on record.", {
      hint: "It is written when the bottle starts; ask the operator to restart the bottle.",
    });
  }
  return recipe;
}

export function currentImageRecipe(stateDir: string): CurrentImageRecipe {
  const recipe = recipeOrRefuse(stateDir);
  return {
    base_recipe: recipe.base.dockerfile,
    approved_changes: recipe.layers,
    dockerfile: renderRecipe(recipe),
    recipe_hash: hashOf(recipe),
    rebuild_pending: rebuildPending(recipe),
  };
}

export interface ImageChangeFiled {
  request_id: string;
  status: "pending";
  /** True when the same change was already pending: this ask merged into it. */
  merged: boolean;
  /** Risk flags the operator will see beside the change (computed by bot-bottle). */
  risk_flags: string[];
  next: string;
}

/** Validates and files an image change; throws BottleError with what to fix when refused. */
export function requestImageChange(
  stateDir: string,
  identity: string,
  input: { dockerfile: string; reason: string },
  now = new Date(),
): ImageChangeFiled {
  validateLayer(input.dockerfile);
  const recipe = recipeOrRefuse(stateDir);
  if (recipe.layers.some((l) => l.dockerfile.trimEnd() === input.dockerfile.trimEnd())) {
    throw new BottleError(
      "image_change_refused",
      "This change is already approved and part of the bottle's recipe; nothing to ask for.",
      {
        hint: rebuildPending(recipe)
          ? "It arrives when the bottle restarts on its new image."
          : "It is in the image you run now.",
      },
    );
  }
  const filed = fileRequest(
    requestsDir(stateDir),
    identity,
    { kind: "image", image: { dockerfile: input.dockerfile, base_recipe_hash: hashOf(recipe) } },
    input.reason,
    now,
  );
  return {
    request_id: filed.request.id,
    status: "pending",
    merged: filed.merged,
    risk_flags: imageRisks(input.dockerfile).map((r) => `${r.code} (line ${r.line})`),
    next: `Call wait_for_decision with request_id ${filed.request.id}. Once approved, the operator restarts the bottle on the new image: your session is cut and continues on it, with the same workspace.`,
  };
}

export const imageToolDescriptions = {
  current_image_recipe:
    "Shows the Dockerfile instructions this bottle's image was built from: the agent image's recipe, the image changes already approved, and the per-bottle Dockerfile. Read it before asking for an image change.",
  request_image_change:
    "Asks the operator to add Dockerfile instructions to this bottle's image, e.g. to install a tool it lacks (`RUN apt-get update && apt-get install -y --no-install-recommends jq`). Returns a request_id at once; then call wait_for_decision. Once approved, the bottle is rebuilt and restarted on the new image with the same workspace and conversation.",
} as const;

/** What the image tools need from the supervise gate. */
export interface ImageToolContext {
  identity: string;
  /** state/<identity>/requests as the sidecar sees it (the recipe is in ../image). */
  requestsDir: string;
  /** One audit entry per call: the tool, what happened, the request id when one was filed. */
  audit(tool: string, verdict: "filed" | "merged" | "answered" | "refused", detail?: string): void;
  now(): Date;
}

function toolText(value: object): CallToolResult {
  return {
    content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
    structuredContent: value as Record<string, unknown>,
  };
}

function toolError(error: unknown): CallToolResult {
  const text = isBottleError(error)
    ? [
        error.message,
        ...error.details.map((d) => `- ${d}`),
        ...(error.hint === undefined ? [] : [error.hint]),
      ].join("\n")
    : `The image change could not be filed: ${error instanceof Error ? error.message : String(error)}`;
  return { isError: true, content: [{ type: "text", text }] };
}

/** Registers current_image_recipe and request_image_change on the supervise gate's server. */
export function registerImageTools(server: McpServer, ctx: ImageToolContext): void {
  const stateDir = path.dirname(ctx.requestsDir);
  server.registerTool(
    "current_image_recipe",
    { description: imageToolDescriptions.current_image_recipe, inputSchema: z.strictObject({}) },
    () => {
      try {
        const recipe = currentImageRecipe(stateDir);
        ctx.audit("current_image_recipe", "answered");
        return toolText(recipe);
      } catch (error) {
        ctx.audit("current_image_recipe", "refused", String(error).slice(0, 200));
        return toolError(error);
      }
    },
  );
  server.registerTool(
    "request_image_change",
    {
      description: imageToolDescriptions.request_image_change,
      inputSchema: requestImageChangeInput,
    },
    ({ dockerfile, reason }) => {
      try {
        const filed = requestImageChange(stateDir, ctx.identity, { dockerfile, reason }, ctx.now());
        ctx.audit("request_image_change", filed.merged ? "merged" : "filed", filed.request_id);
        return toolText(filed);
      } catch (error) {
        ctx.audit(
          "request_image_change",
          "refused",
          error instanceof Error ? error.message.slice(0, 200) : "",
        );
        return toolError(error);
      }
    },
  );
}
