/**
 * The pooled start: `bottle start AGENT [--yes] [--detach] [--manifest FILE]` when AGENT has a
 * warm pool (with `--cwd`, the normal start runs and says why: see cwdStartArgs). Tried by main.ts before the command tree is loaded, and self-contained: it loads no
 * argument parser, schema library, manifest parser or engine client (the pooled start's budget,
 * 250 ms, includes loading the CLI). Anything it does not handle (other options, no pool, no
 * bottle that may be handed out) returns undefined and the normal start runs.
 *
 * After a take (or a pool found empty or stale) the pool is refilled by a detached process of
 * the CLI (pool-refill-main.ts), its output appended to pool/refill.log in the state home; the
 * start never waits for it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { commandLines } from "../core/command-lines.js";
import { findManifest } from "../core/manifest/find-manifest.js";
import { packageRoot } from "../core/host/package-root.js";
import type { HostEnv } from "../core/host/paths.js";
import type { BottlePlan } from "../core/plan/bottle-plan.js";
import { listEntries, poolHome, readTarget, refillLog } from "../core/pool/pool-store.js";
import { bottlePaths, readPlan } from "../core/state/bottle-state.js";
import { StartTimings } from "../backend/docker/start-timings.js";
import type { CommandContext } from "./context.js";

export interface PooledStartArgs {
  agent: string;
  manifest: string | undefined;
  yes: boolean;
  detach: boolean;
}

/** The arguments of a start the pooled path serves, or undefined (PURE). */
export function pooledStartArgs(argv: readonly string[]): PooledStartArgs | undefined {
  if (argv[0] !== "start") return undefined;
  const parsed: PooledStartArgs = { agent: "", manifest: undefined, yes: false, detach: false };
  const operands: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "-y" || word === "--yes") parsed.yes = true;
    else if (word === "-d" || word === "--detach") parsed.detach = true;
    else if (word === "-m" || word === "--manifest") {
      const file = argv[++i];
      if (file === undefined) return undefined;
      parsed.manifest = file;
    } else if (word.startsWith("--manifest=")) parsed.manifest = word.slice("--manifest=".length);
    else if (word.startsWith("-"))
      return undefined; // --cwd, --dry-run, --help, ...: the normal start
    else operands.push(word);
  }
  if (operands.length !== 1 || operands[0] === undefined) return undefined;
  parsed.agent = operands[0];
  return parsed;
}

/**
 * The agent of a start the pooled path would serve but for `--cwd` (PURE). Such a start is never
 * served from the pool: `--cwd` is part of the plan (the workspace copy and its git remotes) and
 * the copy is made as a bottle is provisioned, while pooled bottles were provisioned earlier with
 * an empty workspace. Handing one out would give a bottle whose plan does not match.
 */
export function cwdStartArgs(argv: readonly string[]): PooledStartArgs | undefined {
  if (!argv.includes("--cwd")) return undefined;
  return pooledStartArgs(argv.filter((word) => word !== "--cwd"));
}

/** Says why a `--cwd` start of an agent with a warm pool makes a new bottle instead. */
function explainCwdStart(argv: readonly string[], ctx: CommandContext): void {
  const args = cwdStartArgs(argv);
  if (args === undefined) return;
  const agent = args.agent;
  const target = readTarget(ctx.host, agent);
  if (target === undefined || target.size === 0) return;
  try {
    if (findManifest(ctx.host, args.manifest) !== target.manifest) return;
  } catch {
    return; // the normal start explains
  }
  ctx.io.err(
    `warm pool: not used: --cwd copies this directory into the workspace as a bottle is made, and ${agent}'s pooled bottles were made beforehand with an empty workspace; starting a new bottle (\`${commandLines.start(agent)}\` without --cwd takes a pooled one).`,
  );
}

/** Starts the detached refill of an agent's pool; its output goes to pool/refill.log. */
export function spawnRefill(host: HostEnv, agent: string): void {
  fs.mkdirSync(poolHome(host), { recursive: true, mode: 0o700 });
  const log = fs.openSync(refillLog(host), "a", 0o600);
  try {
    const script = fileURLToPath(new URL("./pool-refill-main.js", import.meta.url));
    const child = spawn(process.execPath, [script, agent], {
      detached: true,
      stdio: ["ignore", log, log],
      cwd: host.cwd,
      env: { ...host.env },
    });
    child.on("error", () => undefined);
    child.unref();
  } finally {
    fs.closeSync(log);
  }
}

/** The preflight of a pooled plan, asked before a take without --yes. */
async function confirmed(plan: BottlePlan, ctx: CommandContext): Promise<boolean> {
  if (ctx.confirm === undefined) return false; // the normal start says --yes is needed
  const { renderPreflight } = await import("./render/preflight.js");
  ctx.io.err(renderPreflight(plan));
  return ctx.confirm("Start this bottle (from the warm pool)? [y/N] ");
}

/**
 * A start from the pool: the exit code, or undefined when the normal start is to run instead.
 * Never fails for the pool's sake: a bottle that cannot be handed out is set aside.
 */
export async function tryPooledStart(
  argv: readonly string[],
  ctx: CommandContext,
): Promise<number | undefined> {
  const timings = new StartTimings();
  timings.mark("cli loaded");
  const args = pooledStartArgs(argv);
  if (args === undefined) {
    explainCwdStart(argv, ctx);
    return undefined;
  }
  const target = readTarget(ctx.host, args.agent);
  if (target === undefined || target.size === 0) return undefined;
  let manifest: string;
  try {
    manifest = findManifest(ctx.host, args.manifest);
  } catch {
    return undefined; // the normal start explains
  }
  // The pool was filled from another manifest (another project's agent of the same name).
  if (manifest !== target.manifest) return undefined;
  const first = listEntries(ctx.host, args.agent, "ready.json")[0];
  const shown = first === undefined ? undefined : readPlan(bottlePaths(ctx.host, first.identity));
  if (shown === undefined) {
    spawnRefill(ctx.host, args.agent);
    return undefined;
  }
  if (!args.yes && !(await confirmed(shown, ctx))) {
    if (ctx.confirm === undefined) return undefined;
    ctx.io.err("Not started.");
    return 1;
  }
  const { takePooled } = await import("../backend/docker/take-pooled.js");
  const outcome = await takePooled(ctx.host, args.agent, manifest, {
    detached: args.detach,
    packageRoot: packageRoot(),
    timings,
  });
  for (const line of outcome.discarded) ctx.io.err(`warm pool: set aside ${line}`);
  spawnRefill(ctx.host, args.agent);
  const plan = outcome.taken;
  if (plan === undefined) return undefined;
  timings.mark("done");
  timings.write(path.join(bottlePaths(ctx.host, plan.identity).dir, "start-timings.json"));
  if (args.detach) {
    ctx.io.out(plan.identity);
    ctx.io.err(
      `Bottle ${plan.identity} is running (from the warm pool). Attach: ${commandLines.attach(plan.identity)}; stop: ${commandLines.stop(plan.identity)}`,
    );
    return 0;
  }
  const [{ runSession }, { dockerBackend }] = await Promise.all([
    import("./commands/session.js"),
    import("./commands/lifecycle-context.js"),
  ]);
  return runSession(await dockerBackend(ctx), plan, ctx);
}
