import type { DockerBackend } from "../../backend/docker/docker-backend.js";
import type { EngineInfo } from "../../backend/docker/engine.js";
import type { EngineFacts } from "../../core/plan/runtime.js";
import { BottleError } from "../../core/errors.js";
import { packageRoot } from "../../core/host/package-root.js";
import type { CommandContext } from "../context.js";

/**
 * The Docker backend, loaded on first use: the engine client takes a noticeable part of a second
 * to load, which commands that never touch the engine (help, validate, dry runs) should not pay.
 */
export async function dockerBackend(ctx: CommandContext): Promise<DockerBackend> {
  const [{ DockerBackend }, { createDockerClient }] = await Promise.all([
    import("../../backend/docker/docker-backend.js"),
    import("../../backend/docker/engine.js"),
  ]);
  return new DockerBackend(createDockerClient(ctx.host.env), ctx.host, packageRoot());
}

/** Asks the engine what it is (runtimes included); fails with a remedy when it does not answer. */
export async function askEngine(
  ctx: CommandContext,
): Promise<{ facts: EngineFacts; info: EngineInfo }> {
  const { createDockerClient, engineFacts, readEngineInfo } =
    await import("../../backend/docker/engine.js");
  const info = await readEngineInfo(createDockerClient(ctx.host.env));
  return { facts: engineFacts(info), info };
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
