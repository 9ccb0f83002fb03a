/**
 * Stopping a bottle on the Docker engine: its workspace and agent home saved to its state folder,
 * its live rules saved, every engine object removed; and discarding a never-used pooled bottle.
 */
import fs from "node:fs";
import type { BackendContext } from "./backend-context.js";
import { knownMetadata } from "./backend-context.js";
import { saveLiveRules } from "./control-client.js";
import { findBottleObjects, removeBottleObjects } from "./engine-objects.js";
import { saveFolder } from "./workspace.js";
import { AGENT_HOME, WORKSPACE_DIR } from "../../core/plan/layout.js";
import { bottlePaths, updateStatus } from "../../core/state/bottle-state.js";

/**
 * Saves the workspace, removes every engine object of the bottle, keeps its state for resume.
 * `restarting`: the bottle comes back at once (an image change); an attached session waits for it.
 */
export async function stopBottle(
  ctx: BackendContext,
  identity: string,
  options: { restarting?: boolean },
): Promise<void> {
  const paths = bottlePaths(ctx.host, identity);
  knownMetadata(ctx.host, identity);
  if (options.restarting === true) updateStatus(paths, "restarting");
  const objects = (await findBottleObjects(ctx.docker, identity)).get(identity);
  const agent = objects?.containers.find((c) => c.role === "agent");
  if (agent !== undefined) {
    try {
      await saveFolder(ctx.docker, agent.id, WORKSPACE_DIR, paths.workspaceArchive);
      await saveFolder(ctx.docker, agent.id, AGENT_HOME, paths.homeArchive);
    } catch {
      // A container that cannot be read any more has nothing to save; removal goes on.
    }
  }
  await saveLiveRules(paths);
  if (objects !== undefined) await removeBottleObjects(ctx.docker, identity);
  if (options.restarting !== true) updateStatus(paths, "stopped");
}

/**
 * Removes a bottle whole, engine objects and state folder: a pooled bottle that was never
 * handed out (drained, stale, or no longer matching its manifest) has nothing to keep.
 */
export async function discardBottle(ctx: BackendContext, identity: string): Promise<void> {
  await removeBottleObjects(ctx.docker, identity);
  fs.rmSync(bottlePaths(ctx.host, identity).dir, { recursive: true, force: true });
}
