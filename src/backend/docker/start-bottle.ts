/**
 * Starting a bottle on the Docker engine: a new one (session or warm pool) and a stopped one
 * again. Writes its state folder first (plan, metadata with status `starting` and the starting
 * process), reads the secrets, builds or finds the agent image, starts the secret keeper beside
 * the launch (launch.ts), and records the outcome (`running`, `pooled`, or `failed`).
 */
import fs from "node:fs";
import path from "node:path";
import type { BackendContext } from "./backend-context.js";
import { homeTagOf, knownMetadata } from "./backend-context.js";
import { agentImageFor, markStarted } from "./bottle-image.js";
import type { Progress } from "./build-image.js";
import { findBottleObjects, removeBottleObjects } from "./engine-objects.js";
import type { LaunchInput } from "./launch.js";
import { launchBottle } from "./launch.js";
import { keepStartedBottle } from "./bottle-keeper.js";
import { sidecarUserFor } from "./sidecar-user.js";
import type { StartTimings } from "./start-timings.js";
import { BottleError } from "../../core/errors.js";
import { readBottleSecrets } from "../../core/host/read-secrets.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { LABELS } from "../../core/plan/layout.js";
import type { BottleMetadata, BottlePaths } from "../../core/state/bottle-state.js";
import {
  bottlePaths,
  createBottleState,
  metadataFromPlan,
  readPlan,
  updateStatus,
  writeJsonAtomic,
  writeMetadata,
} from "../../core/state/bottle-state.js";

/** Creates the state, launches the bottle, and records it as running. */
export async function startBottle(
  ctx: BackendContext,
  plan: BottlePlan,
  options: { detached: boolean; progress: Progress; timings?: StartTimings },
): Promise<void> {
  const paths = bottlePaths(ctx.host, plan.identity);
  createBottleState(paths);
  writeJsonAtomic(paths.plan, plan);
  writeMetadata(paths, {
    ...metadataFromPlan(plan, new Date(), options.detached),
    starter_pid: process.pid,
  });
  await launch(ctx, plan, paths, options.progress, undefined, options.timings);
  options.timings?.mark("done");
  options.timings?.write(path.join(paths.dir, "start-timings.json"));
}

/**
 * Starts a warm pool's bottle (see core/pool/): up to the agent's relay ready, provisioned
 * from the plan, with no secrets: its sidecar refuses everything until a `bottle start` takes it
 * and hands them over. Recorded with status `pooled` once up.
 */
export async function startPooledBottle(
  ctx: BackendContext,
  plan: BottlePlan,
  progress: Progress,
): Promise<void> {
  const paths = bottlePaths(ctx.host, plan.identity);
  createBottleState(paths);
  writeJsonAtomic(paths.plan, plan);
  writeMetadata(paths, {
    ...metadataFromPlan(plan, new Date(), true),
    starter_pid: process.pid,
  });
  await launch(ctx, plan, paths, progress, undefined, undefined, "pooled");
}

/** Starts a stopped bottle again: same identity, plan, policy and workspace. */
export async function resumeBottle(
  ctx: BackendContext,
  identity: string,
  progress: Progress,
): Promise<BottleMetadata> {
  const metadata = knownMetadata(ctx.host, identity);
  const paths = bottlePaths(ctx.host, identity);
  const plan = readPlan(paths);
  if (plan === undefined)
    throw new BottleError(
      "bottle_unknown",
      `Bottle ${identity} has no saved plan; it cannot be resumed.`,
    );
  const objects = (await findBottleObjects(ctx.docker, identity)).get(identity);
  if (objects !== undefined && objects.containers.some((c) => c.state === "running")) {
    throw new BottleError("usage", `Bottle ${identity} is running.`, {
      hint: `Attach to it: bottle attach ${identity}`,
    });
  }
  if (objects !== undefined) await removeBottleObjects(ctx.docker, identity);
  writeMetadata(paths, {
    ...metadata,
    status: "starting",
    stopped_at: null,
    starter_pid: process.pid,
  });
  const saved = (file: string): string | undefined => (fs.existsSync(file) ? file : undefined);
  await launch(ctx, plan, paths, progress, {
    workspace: saved(paths.workspaceArchive),
    home: saved(paths.homeArchive),
  });
  return metadata;
}

async function launch(
  ctx: BackendContext,
  plan: BottlePlan,
  paths: BottlePaths,
  progress: Progress,
  resumeFrom: LaunchInput["resumeFrom"],
  timings?: StartTimings,
  mode: "session" | "pooled" = "session",
): Promise<void> {
  try {
    if (mode === "pooled") {
      // No secret is read for a pooled bottle: it gets them when it is taken.
      const { tag } = await agentImageFor(ctx.docker, ctx.root, plan, paths.dir, progress);
      await launchBottle(ctx.docker, launchInput(ctx, plan, paths, tag, null, progress));
      updateStatus(paths, "pooled");
      return;
    }
    const { secrets, missing, missingGit } = readBottleSecrets(plan, ctx.host.env);
    for (const name of missing)
      progress(`warning: no token for credential ${name}; its route answers 503`);
    for (const name of missingGit)
      progress(`warning: no token for git entry ${name}; the gate reaches it without one`);
    const { recipe, tag } = await agentImageFor(ctx.docker, ctx.root, plan, paths.dir, progress);
    // The home's keeper hands the secrets over again whenever the sidecar comes back without
    // them. The bottle is handed to it beside the launch (status is `starting`, which it watches;
    // a failed launch marks the bottle failed and the keeper lets it go at its next look).
    const keeperWarnings = keepStartedBottle(ctx.host, paths, plan.identity, secrets);
    await launchBottle(ctx.docker, {
      ...launchInput(ctx, plan, paths, tag, secrets, progress),
      ...(resumeFrom === undefined ? {} : { resumeFrom }),
      ...(timings === undefined ? {} : { timings }),
    });
    markStarted(paths.dir, recipe);
    updateStatus(paths, "running");
    const warnings = await keeperWarnings;
    timings?.mark("keeper");
    for (const warning of warnings) progress(warning);
  } catch (error) {
    updateStatus(paths, "failed");
    throw error;
  }
}

function launchInput(
  ctx: BackendContext,
  plan: BottlePlan,
  paths: BottlePaths,
  agentTag: string,
  secrets: LaunchInput["secrets"],
  progress: Progress,
): LaunchInput {
  return {
    plan: {
      ...plan,
      images: { ...plan.images, agent: { ...plan.images.agent, tag: agentTag } },
      labels: { ...plan.labels, [LABELS.home]: homeTagOf(ctx.host) },
    },
    paths,
    secrets,
    root: ctx.root,
    hostEnv: ctx.host.env,
    sidecarUser: sidecarUserFor({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }),
    progress,
  };
}
