/** Stopping a bottle: its workspace and home saved, its engine objects removed, its state kept. */
import type { OperatorContext } from "./operator-context.js";
import { bottleRef } from "./bottle-ref.js";

/** Throws BottleError `bottle_unknown` for a bottle that does not exist. */
export async function stopBottle(op: OperatorContext, identity: string): Promise<void> {
  bottleRef(op.host, identity);
  await (await op.backend()).stop(identity);
}
