import path from "node:path";
import { gatherHostFacts, runtimesFromDaemonConfig } from "../../core/host/host-facts.js";
import { loadManifest } from "../../core/manifest/load.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { makePlan } from "../../core/plan/make-plan.js";
import type { EngineFacts } from "../../core/plan/runtime.js";
import type { CommandContext } from "../context.js";
import { renderPreflight } from "../render/preflight.js";
import { askEngine, confirmOrRefuse, dockerBackend } from "./lifecycle-context.js";
import { runSession } from "./session.js";

export interface StartOptions {
  manifest?: string;
  cwd: boolean;
  dryRun: boolean;
  format: "text" | "json";
  yes: boolean;
  detach: boolean;
}

function planStart(
  agent: string,
  options: StartOptions,
  ctx: CommandContext,
  engine: EngineFacts | undefined,
): BottlePlan {
  const { path: manifestPath, manifest } = loadManifest(ctx.host, options.manifest);
  const facts = gatherHostFacts(ctx.host, manifest, manifestPath, agent, engine);
  return makePlan(
    manifest,
    { agent, ...(options.cwd ? { copyFrom: path.resolve(ctx.host.cwd) } : {}) },
    facts,
  );
}

/**
 * `bottle start`: plan, show the preflight, ask, build or reuse images, launch, then attach the
 * terminal to the agent program and tear the bottle down when it exits (unless --detach).
 * `--dry-run` stops after the plan and calls no engine.
 */
export async function startCommand(
  agent: string,
  options: StartOptions,
  ctx: CommandContext,
): Promise<number> {
  if (options.dryRun) {
    const plan = planStart(agent, options, ctx, runtimesFromDaemonConfig());
    ctx.io.out(options.format === "json" ? JSON.stringify(plan, null, 2) : renderPreflight(plan));
    return 0;
  }
  const plan = planStart(agent, options, ctx, (await askEngine(ctx)).facts);
  ctx.io.err(renderPreflight(plan));
  if (!(await confirmOrRefuse(ctx, "Start this bottle? [y/N] ", options.yes))) {
    ctx.io.err("Not started.");
    return 1;
  }
  const backend = await dockerBackend(ctx);
  await backend.start(plan, {
    detached: options.detach,
    progress: (line) => {
      ctx.io.err(line);
    },
  });
  if (options.detach) {
    ctx.io.out(plan.identity);
    ctx.io.err(
      `Bottle ${plan.identity} is running. Attach: bottle attach ${plan.identity}; stop: bottle stop ${plan.identity}`,
    );
    return 0;
  }
  return runSession(backend, plan, ctx);
}
