/** Resuming a stopped bottle: the same identity, plan, policy, workspace and home. */
import type { BottlePlan } from "../core/plan/bottle-plan.js";
import { readPlan } from "../core/state/bottle-state.js";
import type { OperatorContext } from "./operator-context.js";
import { bottleRef } from "./bottle-ref.js";

/**
 * Starts the bottle again and returns its plan (the caller may attach to its agent). Progress
 * lines (image builds, warnings) go to `progress`. Throws BottleError `bottle_unknown`, or
 * `usage` for a bottle that is running.
 */
export async function resumeBottle(
  op: OperatorContext,
  identity: string,
  progress: (line: string) => void,
): Promise<BottlePlan | undefined> {
  const { paths } = bottleRef(op.host, identity);
  await (await op.backend()).resume(identity, progress);
  return readPlan(paths);
}
