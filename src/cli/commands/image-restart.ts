/**
 * After an image change is approved: restart the running bottle on its new image (now with
 * `--restart` or yes to the question), or leave it for the next resume. The build's output is
 * streamed; a failed build leaves the bottle running on its old image and shows its last lines.
 */
import { commandLines } from "../../core/command-lines.js";
import { isBottleError } from "../../core/errors.js";
import { bottlePaths } from "../../core/state/bottle-state.js";
import { restartOnNewImage } from "../../operator/image-change.js";
import type { CommandContext } from "../context.js";
import { dockerBackend } from "./lifecycle-context.js";

export async function offerRestart(
  identity: string,
  requestId: string,
  options: { restart?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const backend = await dockerBackend(ctx);
  const later = `The bottle runs on the new image from its next restart or resume (\`${commandLines.resume(identity)}\` after a stop).`;
  if (backend.metadata(identity).status !== "running") {
    ctx.io.err(
      `${identity} is not running: \`${commandLines.resume(identity)}\` builds its new image.`,
    );
    return 0;
  }
  let restart = options.restart === true;
  if (!restart && ctx.confirm !== undefined)
    restart = await ctx.confirm(`Restart ${identity} on its new image now? [y/N] `);
  if (!restart) {
    ctx.io.err(later);
    return 0;
  }
  const progress = (line: string): void => {
    ctx.io.err(line);
  };
  try {
    const outcome = await restartOnNewImage(
      backend,
      bottlePaths(ctx.host, identity).dir,
      identity,
      [requestId],
      progress,
    );
    if (outcome === "restarted")
      ctx.io.err(
        `${identity} restarted on its new image; the agent is told on its next wait_for_decision.`,
      );
    else ctx.io.err(later);
    return 0;
  } catch (error) {
    if (isBottleError(error) && error.code === "image_build_failed") {
      ctx.io.err(`The build failed; ${identity} keeps running on its old image. Its last lines:`);
      for (const line of error.details) ctx.io.err(`  ${line}`);
      ctx.io.err(
        `The change was taken back and ${requestId} denied with these lines, so the agent knows why.`,
      );
      return 1;
    }
    throw error;
  }
}
