import path from "node:path";
import { BottleError } from "../../core/errors.js";
import { readBottleSecrets } from "../../core/host/read-secrets.js";
import type { Provider } from "../../core/manifest/schema.js";
import { providerSpec } from "../../providers/provider.js";
import { gatherHostFacts, runtimesFromDaemonConfig } from "../../core/host/host-facts.js";
import { loadManifest } from "../../core/manifest/load.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { makePlan } from "../../core/plan/make-plan.js";
import { resolveRuntime } from "../../core/plan/runtime.js";
import { withRuntime } from "../../core/plan/process-limits.js";
import type { EngineFacts } from "../../core/plan/runtime.js";
import type { CommandContext } from "../context.js";
import { renderPreflight } from "../render/preflight.js";
import { askEngine, confirmOrRefuse, dockerBackend } from "./lifecycle-context.js";
import { StartTimings } from "../../backend/docker/start-timings.js";
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
  const copyFrom = options.cwd ? path.resolve(ctx.host.cwd) : undefined;
  const facts = gatherHostFacts(ctx.host, manifest, manifestPath, agent, engine, copyFrom);
  return makePlan(manifest, { agent, ...(copyFrom === undefined ? {} : { copyFrom }) }, facts);
}

/**
 * An agent program that talks to a model needs its token on the host, reached through a
 * credential route. Without one, say how to provide it; never fall back to the host's own
 * credential files, which would put a real secret into the bottle.
 */
function requireModelToken(plan: BottlePlan, ctx: CommandContext): void {
  const role = providerSpec(plan.provider as Provider).modelRole;
  if (role === undefined) return;
  const route = plan.credentials.find((c) => c.role === role);
  const { missing } = readBottleSecrets(plan, ctx.host.env);
  if (route !== undefined && !missing.includes(route.name)) return;
  const where =
    route === undefined
      ? `no credential in bottle ${plan.bottle} has role ${role}`
      : "env" in route.token_source
        ? `$${route.token_source.env} is not set`
        : `${route.token_source.file} is empty`;
  const how =
    role === "anthropic-base-url"
      ? "Export an Anthropic API key, or a Claude subscription token from `claude setup-token`, in the variable the manifest names (for example ANTHROPIC_API_KEY)"
      : "Export an OpenAI API key in the variable the manifest names (for example OPENAI_API_KEY), or use Codex's ChatGPT login (token: {file: ~/.codex/auth.json}, inject: chatgpt)";
  throw new BottleError("token_missing", `${plan.agent} needs a model token, but ${where}.`, {
    hint: `${how}; the manifest's credentials entry (role: ${role}) says where it is read. The token stays outside the bottle.`,
  });
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
  const timings = new StartTimings();
  timings.mark("cli loaded");
  // The engine's answer (its runtimes) comes while the manifest is read and planned: the
  // request goes out before planning (one turn of the event loop sends it), is awaited after.
  const engine = askEngine(ctx);
  engine.catch(() => undefined); // awaited below; a failed plan must not leave it unhandled
  await new Promise((resolve) => setImmediate(resolve));
  // Plan (no engine needed), check the token, then let the engine decide the runtime.
  const draft = planStart(agent, options, ctx, undefined);
  requireModelToken(draft, ctx);
  timings.mark("planned");
  const plan: BottlePlan = withRuntime(
    draft,
    resolveRuntime(draft.runtime.requested, (await engine).facts),
  );
  timings.mark("engine asked");
  ctx.io.err(renderPreflight(plan));
  if (!(await confirmOrRefuse(ctx, "Start this bottle? [y/N] ", options.yes))) {
    ctx.io.err("Not started.");
    return 1;
  }
  const backend = await dockerBackend(ctx);
  timings.mark("backend loaded");
  await backend.start(plan, {
    detached: options.detach,
    timings,
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
