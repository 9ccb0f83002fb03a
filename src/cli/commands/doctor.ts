/**
 * `bottle doctor`: checks what starting a bottle needs and says what to do about each problem.
 * Reads only; fixes nothing itself.
 */
import fs from "node:fs";
import path from "node:path";
import type { EngineInfo } from "../../backend/docker/engine.js";
import { BottleError, isBottleError } from "../../core/errors.js";
import { botBottleHome, stateDir } from "../../core/host/paths.js";
import { loadManifest } from "../../core/manifest/load.js";
import type { CommandContext } from "../context.js";
import { agentChecks } from "./doctor-agents.js";
import { askEngine } from "./lifecycle-context.js";
import { judgeProcessLimit, judgeShell } from "./sandbox-checks.js";
import { DEFAULT_BASE_IMAGE } from "../../core/host/host-facts.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when status is not ok. */
  fix?: string;
}

/** The flags bottles need; gVisor older than 2023 without --host-uds takes --fsgofer-host-uds. */
export const RUNSC_FLAGS = ["--network=none", "--host-uds=open"];

export function runscConfigLines(runscPath = "/usr/bin/runsc"): string {
  return JSON.stringify(
    { runtimes: { runsc: { path: runscPath, runtimeArgs: RUNSC_FLAGS } } },
    null,
    2,
  );
}

export function checkRunsc(info: EngineInfo): Check {
  const runsc = info.runtimes.find((r) => r.name === "runsc");
  if (runsc === undefined) {
    return {
      name: "runsc",
      status: "warn",
      detail: "not registered: bottles will run under runc (no gVisor)",
      fix: `Install gVisor (Debian bookworm: apt-get install -t bookworm-backports runsc), add to /etc/docker/daemon.json:\n${runscConfigLines()}\nthen restart dockerd.`,
    };
  }
  const missing = RUNSC_FLAGS.filter(
    (flag) =>
      !runsc.args.includes(flag) &&
      !(flag === "--host-uds=open" && runsc.args.includes("--fsgofer-host-uds")),
  );
  const detail = `registered at ${runsc.path} with ${runsc.args.length > 0 ? runsc.args.join(" ") : "no flags"}`;
  if (missing.length > 0) {
    return {
      name: "runsc",
      status: "warn",
      detail,
      fix: `Bottles need ${missing.join(" ")} (gVisor without --host-uds: --fsgofer-host-uds) in runtimeArgs; the gates are reached through unix sockets:\n${runscConfigLines(runsc.path)}`,
    };
  }
  return { name: "runsc", status: "ok", detail };
}

function checkStateDir(ctx: CommandContext): Check {
  const home = botBottleHome(ctx.host);
  let probe = stateDir(ctx.host);
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  try {
    fs.accessSync(probe, fs.constants.W_OK);
    return {
      name: "state",
      status: "ok",
      detail: `${stateDir(ctx.host)}${probe === stateDir(ctx.host) ? "" : " (created on first start)"}`,
    };
  } catch {
    return {
      name: "state",
      status: "fail",
      detail: `${probe} is not writable`,
      fix: `Make ${home} writable, or set BOT_BOTTLE_HOME to a folder you own.`,
    };
  }
}

function checkManifest(ctx: CommandContext, file: string | undefined): Check {
  try {
    const { path: found, manifest } = loadManifest(ctx.host, file);
    return {
      name: "manifest",
      status: "ok",
      detail: `${found} (agents: ${Object.keys(manifest.agents).join(", ")})`,
    };
  } catch (error) {
    if (!isBottleError(error)) throw error;
    const status: CheckStatus =
      error.code === "manifest_not_found" && file === undefined ? "warn" : "fail";
    return {
      name: "manifest",
      status,
      detail: [error.message, ...error.details].join("\n    "),
      fix: error.hint ?? "",
    };
  }
}

/**
 * Runs the sandbox probe in the base image under the runtime bottles use (runsc when
 * registered): the agent's shell tools and its process limit, as a bottle would meet them.
 */
async function sandboxChecks(ctx: CommandContext, info: EngineInfo): Promise<Check[]> {
  const runtime = info.runtimes.some((r) => r.name === "runsc") ? "runsc" : "runc";
  const image = ctx.host.env["BOT_BOTTLE_BASE_IMAGE"] ?? DEFAULT_BASE_IMAGE;
  const [{ createDockerClient }, { runSandboxProbe }] = await Promise.all([
    import("../../backend/docker/engine.js"),
    import("../../backend/docker/sandbox-probe.js"),
  ]);
  const docker = createDockerClient(ctx.host.env);
  try {
    await docker.inspectImage(image);
  } catch {
    return [
      {
        name: "shell",
        status: "warn",
        detail: `not checked: the base image ${image} is not on this engine (a first start builds on it)`,
        fix: "Pull or build it (scripts/setup-host.sh builds bot-bottle/base:bookworm), or set BOT_BOTTLE_BASE_IMAGE, then run `bottle doctor` again.",
      },
    ];
  }
  try {
    const outcome = await runSandboxProbe(docker, image, runtime);
    return [judgeShell(outcome, runtime), judgeProcessLimit(outcome, runtime)];
  } catch (error) {
    return [
      {
        name: "shell",
        status: "fail",
        detail: `the engine could not run a ${runtime} container: ${error instanceof Error ? error.message : String(error)}`,
        fix: "Bottles run the same way; check dockerd's log and the runtime's registration above.",
      },
    ];
  }
}

/** Checks of the manifest's agent programs (doctor-agents.ts); none when it does not load. */
function agentsOf(ctx: CommandContext, file: string | undefined): Check[] {
  try {
    const { path: found, manifest } = loadManifest(ctx.host, file);
    return agentChecks(manifest, found, ctx.host);
  } catch (error) {
    if (isBottleError(error)) return [];
    throw error;
  }
}

export async function runChecks(ctx: CommandContext, manifestFile?: string): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const { info } = await askEngine(ctx);
    checks.push({
      name: "engine",
      status: "ok",
      detail: `Docker ${info.version} (API ${info.apiVersion})`,
    });
    checks.push(checkRunsc(info));
    checks.push(...(await sandboxChecks(ctx, info)));
  } catch (error) {
    if (!isBottleError(error)) throw error;
    checks.push({ name: "engine", status: "fail", detail: error.message, fix: error.hint ?? "" });
  }
  checks.push(checkStateDir(ctx));
  checks.push(checkManifest(ctx, manifestFile));
  checks.push(...agentsOf(ctx, manifestFile));
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

export async function doctorCommand(
  options: { manifest?: string; json: boolean },
  ctx: CommandContext,
): Promise<void> {
  const checks = await runChecks(ctx, options.manifest);
  if (options.json) ctx.io.out(JSON.stringify({ checks }, null, 2));
  else {
    for (const check of checks) {
      ctx.io.out(`${MARK[check.status]}  ${check.name.padEnd(9)} ${check.detail}`);
      if (check.status !== "ok" && check.fix !== undefined && check.fix !== "") {
        ctx.io.out(
          check.fix
            .split("\n")
            .map((line) => `        ${line}`)
            .join("\n"),
        );
      }
    }
  }
  const failed = checks.filter((c) => c.status === "fail");
  if (failed.length > 0) {
    throw new BottleError(
      "doctor_failed",
      `${failed.length} problem(s) block starting a bottle: ${failed.map((c) => c.name).join(", ")}.`,
      {
        hint: "Fix the lines marked FAIL above and run `bottle doctor` again.",
      },
    );
  }
}
