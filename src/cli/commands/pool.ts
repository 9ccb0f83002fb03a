/** `bottle pool [AGENT] [--size N]`: set a warm pool's size (0 drains it), or show every pool. */
import { commandLines } from "../../core/command-lines.js";
import { BottleError } from "../../core/errors.js";
import type { PoolStatus } from "../../operator/pool.js";
import type { CommandContext } from "../context.js";
import { operatorOf } from "./lifecycle-context.js";

export interface PoolOptions {
  size?: string;
  manifest?: string;
  json: boolean;
}

function parseSize(text: string): number {
  const size = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(size) || size > 64) {
    throw new BottleError("usage", `--size must be a whole number from 0 to 64, not "${text}".`, {
      hint: `For example: ${commandLines.pool("implementer", 2)}; ${commandLines.pool("implementer", 0)} drains the pool.`,
    });
  }
  return size;
}

function renderPools(pools: readonly PoolStatus[]): string {
  const lines: string[] = [];
  for (const pool of pools) {
    lines.push(`${pool.agent}: ${pool.ready.length} of ${pool.size} ready (${pool.manifest})`);
    for (const bottle of pool.ready)
      lines.push(`  ${bottle.identity}  pooled ${bottle.created_at}`);
  }
  return lines.join("\n");
}

export async function poolCommand(
  agent: string | undefined,
  options: PoolOptions,
  ctx: CommandContext,
): Promise<void> {
  const { poolStatus, setPoolSize } = await import("../../operator/pool.js");
  const op = operatorOf(ctx);
  if (options.size === undefined) {
    const pools = poolStatus(op).filter((p) => agent === undefined || p.agent === agent);
    if (options.json) ctx.io.out(JSON.stringify(pools, null, 2));
    else if (pools.length === 0)
      ctx.io.err(`No warm pools. Make one: ${commandLines.pool(agent ?? "<agent>", 2)}`);
    else ctx.io.out(renderPools(pools));
    return;
  }
  if (agent === undefined) {
    throw new BottleError("usage", "--size needs the agent whose pool it sets.", {
      hint: `For example: ${commandLines.pool("implementer", 2)}`,
    });
  }
  const size = parseSize(options.size);
  await setPoolSize(op, agent, size, options.manifest, (line) => {
    ctx.io.err(line);
  });
  if (size === 0) {
    ctx.io.err(`The pool of ${agent} is drained: no pooled bottle is left.`);
    return;
  }
  const ready = poolStatus(op).find((p) => p.agent === agent)?.ready.length ?? 0;
  ctx.io.err(
    `${String(ready)} of ${String(size)} bottle(s) of ${agent} ready${ready < size ? " (a refill running in the background pools the rest)" : ""}; ${commandLines.start(agent)} takes one, and the pool refills in the background.`,
  );
}
