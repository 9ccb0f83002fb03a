/** Commands on existing bottles: list, attach, exec, stop, resume, cleanup. */
import { PassThrough } from "node:stream";
import type { BottleSummary } from "../../backend/docker/docker-backend.js";
import { attachCommandOf, conversationProbeOf } from "../../core/plan/attach-command.js";
import { readPlan } from "../../core/state/bottle-state.js";
import { BottleError } from "../../core/errors.js";
import { commandLines } from "../../core/command-lines.js";
import { listBottles } from "../../operator/list.js";
import { resumeBottle } from "../../operator/resume.js";
import { stopBottle } from "../../operator/stop.js";
import type { CommandContext } from "../context.js";
import { confirmOrRefuse, dockerBackend, operatorOf } from "./lifecycle-context.js";
import { runSession } from "./session.js";

function age(startedAt: string | null, now: number): string {
  if (startedAt === null) return "-";
  const seconds = Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export function renderList(bottles: readonly BottleSummary[], now: number): string {
  const rows = [["IDENTITY", "AGENT", "STATUS", "HEALTH", "AGE", "RUNTIME"]];
  for (const b of bottles)
    rows.push([
      b.identity,
      b.agent,
      b.rebuild_pending ? `${b.status}, rebuild pending` : b.status,
      b.health,
      age(b.started_at, now),
      b.runtime,
    ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export async function listCommand(options: { json: boolean }, ctx: CommandContext): Promise<void> {
  const bottles = await listBottles(operatorOf(ctx));
  if (options.json) {
    ctx.io.out(JSON.stringify(bottles, null, 2));
    return;
  }
  // Warm pools' bottles are nobody's session yet: shown apart, after the sessions.
  const sessions = bottles.filter((b) => b.status !== "pooled");
  const pooled = bottles.filter((b) => b.status === "pooled");
  if (bottles.length === 0) ctx.io.err("No bottles. Start one: bottle start <agent>");
  if (sessions.length > 0) ctx.io.out(renderList(sessions, Date.now()));
  if (pooled.length > 0) {
    if (sessions.length > 0) ctx.io.out("");
    ctx.io.out(
      `Warm pools (idle, no secrets until taken by \`${commandLines.start("<agent>")}\`; \`${commandLines.pool()}\` shows them):`,
    );
    ctx.io.out(renderList(pooled, Date.now()));
  }
}

export async function attachCommand(identity: string, ctx: CommandContext): Promise<number> {
  const backend = await dockerBackend(ctx);
  const plan = readPlan(backend.paths(identity));
  if (plan === undefined)
    throw new BottleError("bottle_unknown", `No bottle ${identity}.`, {
      hint: "`bottle list` shows the bottles there are.",
    });
  // A conversation in the agent's home (a resume, an image-change restart, an earlier attach):
  // continue it, as the attached session of a resume does, rather than start a new one.
  const probe = conversationProbeOf(plan);
  const sink = new PassThrough().resume();
  const continuing =
    probe !== undefined &&
    (await backend.exec(identity, probe, { stdout: sink, stderr: sink })) === 0;
  if (!continuing) return backend.attach(identity, attachCommandOf(plan, false));
  ctx.io.err(`Continuing the agent's last conversation in ${identity}.`);
  const begun = Date.now();
  const code = await backend.attach(identity, attachCommandOf(plan, true));
  // The program found none it would continue (Claude Code's interactive --continue skips
  // conversations of print mode, `claude -p`): it says so and fails at once. Start afresh.
  if (code === 0 || Date.now() - begun > CONTINUE_REFUSED_WITHIN_MS) return code;
  ctx.io.err("No conversation the agent program would continue; starting it afresh.");
  return backend.attach(identity, attachCommandOf(plan, false));
}

/** A continuing attach that fails sooner than this found nothing to continue. */
const CONTINUE_REFUSED_WITHIN_MS = 15_000;

export async function execCommand(
  identity: string,
  command: readonly string[],
  ctx: CommandContext,
): Promise<number> {
  return (await dockerBackend(ctx)).exec(identity, command, {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}

export async function stopCommand(identity: string, ctx: CommandContext): Promise<void> {
  if ((await stopBottle(operatorOf(ctx), identity)) === "removed") {
    ctx.io.err(`Pooled bottle ${identity} removed (it was never handed out).`);
    return;
  }
  ctx.io.err(
    `Bottle ${identity} stopped; its state is kept. Resume it: ${commandLines.resume(identity)}`,
  );
}

export async function resumeCommand(
  identity: string,
  options: { detach: boolean },
  ctx: CommandContext,
): Promise<number> {
  const plan = await resumeBottle(operatorOf(ctx), identity, (line) => {
    ctx.io.err(line);
  });
  if (options.detach || plan === undefined) {
    ctx.io.err(`Bottle ${identity} is running again. Attach: bottle attach ${identity}`);
    return 0;
  }
  return runSession(await dockerBackend(ctx), plan, ctx, plan.resume_command);
}

export async function cleanupCommand(
  options: { yes: boolean; allHomes?: boolean },
  ctx: CommandContext,
): Promise<void> {
  const backend = await dockerBackend(ctx);
  const leftovers = await backend.findLeftovers({ allHomes: options.allHomes === true });
  for (const identity of leftovers.alive)
    ctx.io.err(
      `${identity}: kept, it is alive in its own state home (its sidecar answers, or that home says it runs; stop it with \`bottle stop\` there)`,
    );
  if (leftovers.otherHomes > 0)
    ctx.io.err(
      `${leftovers.otherHomes} bottle(s) of other state homes left alone (\`bottle cleanup --all-homes\` looks at them too).`,
    );
  const lines: string[] = [];
  for (const group of leftovers.objects) {
    const names = [
      ...group.containers.map((c) => `container ${c.name}`),
      ...group.networks.map((n) => `network ${n.name}`),
      ...group.volumes.map((v) => `volume ${v.name}`),
    ];
    lines.push(`${group.identity}: ${names.join(", ")}`);
  }
  for (const identity of leftovers.staleState)
    lines.push(`${identity}: state of a start that never finished`);
  if (lines.length === 0) {
    ctx.io.err("Nothing to clean up.");
    return;
  }
  ctx.io.err(`Leftovers:\n${lines.map((l) => `  ${l}`).join("\n")}`);
  if (!(await confirmOrRefuse(ctx, "Remove them? [y/N] ", options.yes))) {
    ctx.io.err("Nothing removed.");
    return;
  }
  await backend.removeLeftovers(leftovers);
  ctx.io.err(
    `Removed leftovers of ${new Set([...leftovers.objects.map((g) => g.identity), ...leftovers.staleState]).size} bottle(s).`,
  );
}
