import type { DockerBackend } from "../../backend/docker/docker-backend.js";
import type { EngineInfo } from "../../backend/docker/engine.js";
import { createDockerClient, engineFacts, readEngineInfo } from "../../backend/docker/engine.js";
import type { EngineFacts } from "../../core/plan/runtime.js";
import { BottleError } from "../../core/errors.js";
import type { OperatorContext } from "../../operator/operator-context.js";
import { loadDockerBackend, operatorContext } from "../../operator/operator-context.js";
import type { CommandContext } from "../context.js";

/** The Docker backend, loaded on first use (see operator/operator-context.ts). */
export async function dockerBackend(ctx: CommandContext): Promise<DockerBackend> {
  return loadDockerBackend(ctx.host);
}

/** The operator actions' context for this command (src/operator/ holds the actions). */
export function operatorOf(ctx: CommandContext): OperatorContext {
  return operatorContext(ctx.host);
}

/**
 * Asks the engine what it is (runtimes included); fails with a remedy when it does not answer.
 * The request is on its way when this returns (the engine client is small: loaded with the CLI).
 */
export async function askEngine(
  ctx: CommandContext,
): Promise<{ facts: EngineFacts; info: EngineInfo }> {
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
