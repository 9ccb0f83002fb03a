import { createDockerClient } from "../../backend/docker/engine.js";
import { DockerBackend } from "../../backend/docker/docker-backend.js";
import { BottleError } from "../../core/errors.js";
import { packageRoot } from "../../core/host/package-root.js";
import type { CommandContext } from "../context.js";

export function dockerBackend(ctx: CommandContext): DockerBackend {
  return new DockerBackend(createDockerClient(ctx.host.env), ctx.host, packageRoot());
}

/** Asks before a change, unless --yes; refuses to guess when nobody can answer. */
export async function confirmOrRefuse(
  ctx: CommandContext,
  question: string,
  yes: boolean,
): Promise<boolean> {
  if (yes) return true;
  if (ctx.confirm === undefined) {
    throw new BottleError("usage", "Confirmation needed, but stdin is not a terminal.", {
      hint: "Pass --yes to proceed without asking.",
    });
  }
  return ctx.confirm(question);
}
