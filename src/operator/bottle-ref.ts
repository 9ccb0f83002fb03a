/**
 * A bottle the operator acts on, found by identity in the state home: its files and whether its
 * sidecar should be running (live changes go through its control socket then).
 */
import { commandLines } from "../core/command-lines.js";
import { BottleError } from "../core/errors.js";
import type { HostEnv } from "../core/host/paths.js";
import type { BottleMetadata, BottlePaths } from "../core/state/bottle-state.js";
import { bottlePaths, readMetadata, readPlan } from "../core/state/bottle-state.js";
import type { BottlePlan } from "../core/plan/bottle-plan.js";

export interface BottleRef {
  identity: string;
  paths: BottlePaths;
  metadata: BottleMetadata;
  plan: BottlePlan | undefined;
  /** True when the bottle is running: changes are handed to its sidecar at once. */
  running: boolean;
}

/** The bottle `identity`, or BottleError `bottle_unknown` when the state home has none. */
export function bottleRef(host: HostEnv, identity: string): BottleRef {
  const paths = bottlePaths(host, identity);
  const metadata = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(identity) ? readMetadata(paths) : undefined;
  if (metadata === undefined) {
    throw new BottleError("bottle_unknown", `No bottle ${identity}.`, {
      hint: `\`${commandLines.list()}\` shows the bottles there are.`,
    });
  }
  return {
    identity,
    paths,
    metadata,
    plan: readPlan(paths),
    running: metadata.status === "running",
  };
}
