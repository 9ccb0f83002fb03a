import { BottleError } from "../../core/errors.js";
import { gatherHostFacts, runtimesFromDaemonConfig } from "../../core/host/host-facts.js";
import { loadManifest } from "../../core/manifest/load.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { makePlan } from "../../core/plan/make-plan.js";
import path from "node:path";
import type { CommandContext } from "../context.js";
import { renderPreflight } from "../render/preflight.js";

export interface StartOptions {
  manifest?: string;
  cwd: boolean;
  dryRun: boolean;
  format: "text" | "json";
  yes: boolean;
  detach: boolean;
}

/** Plans a bottle without touching the engine: the dry-run path of `start`. */
export function planStart(agent: string, options: StartOptions, ctx: CommandContext): BottlePlan {
  const { path: manifestPath, manifest } = loadManifest(ctx.host, options.manifest);
  const engine = runtimesFromDaemonConfig();
  const facts = gatherHostFacts(ctx.host, manifest, manifestPath, agent, engine);
  return makePlan(
    manifest,
    { agent, ...(options.cwd ? { copyFrom: path.resolve(ctx.host.cwd) } : {}) },
    facts,
  );
}

export function startCommand(agent: string, options: StartOptions, ctx: CommandContext): void {
  if (!options.dryRun) {
    throw new BottleError(
      "usage",
      "Starting a real bottle is not available in this version; only --dry-run is.",
      {
        hint: "Run `bottle start <agent> --dry-run` to see the plan.",
      },
    );
  }
  const plan = planStart(agent, options, ctx);
  ctx.io.out(options.format === "json" ? JSON.stringify(plan, null, 2) : renderPreflight(plan));
}
