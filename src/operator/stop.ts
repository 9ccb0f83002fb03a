/**
 * Stopping a bottle: its workspace and home saved, its engine objects removed, its state kept. A
 * warm pool's bottle (status `pooled`, never handed out) holds nothing to keep: it is removed
 * whole, and the pool refills at the next take.
 */
import type { OperatorContext } from "./operator-context.js";
import { bottleRef } from "./bottle-ref.js";

/**
 * `stopped` (state kept for resume) or `removed` (a pooled bottle). Throws BottleError
 * `bottle_unknown` for a bottle that does not exist.
 */
export async function stopBottle(
  op: OperatorContext,
  identity: string,
): Promise<"stopped" | "removed"> {
  const { metadata } = bottleRef(op.host, identity);
  if (metadata.status === "pooled") {
    const { stopPooled } = await import("./pool.js");
    if (await stopPooled(op, metadata.agent, identity)) return "removed";
    // Taken by a start meanwhile: it is a session now, stopped like one.
  }
  await (await op.backend()).stop(identity);
  return "stopped";
}
