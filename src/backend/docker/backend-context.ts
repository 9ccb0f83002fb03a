/**
 * What every part of the Docker backend works with: the engine, the host's environment (its state
 * home) and the package root; and the look-up of a bottle's state that explains a missing one.
 */
import type { EngineClient } from "./engine-client.js";
import { BottleError } from "../../core/errors.js";
import type { HostEnv } from "../../core/host/paths.js";
import { botBottleHome } from "../../core/host/paths.js";
import { homeTag } from "../../core/plan/layout.js";
import type { BottleMetadata } from "../../core/state/bottle-state.js";
import { bottlePaths, readMetadata } from "../../core/state/bottle-state.js";

export interface BackendContext {
  readonly docker: EngineClient;
  readonly host: HostEnv;
  /** The package root (images, bundles). */
  readonly root: string;
}

/** The home label every engine object of this state home carries. */
export function homeTagOf(host: HostEnv): string {
  return homeTag(botBottleHome(host));
}

/** Reads a bottle's state, or explains that no such bottle exists. */
export function knownMetadata(host: HostEnv, identity: string): BottleMetadata {
  const found = readMetadata(bottlePaths(host, identity));
  if (found === undefined) {
    throw new BottleError("bottle_unknown", `No bottle ${identity}.`, {
      hint: "`bottle list` shows the bottles there are.",
    });
  }
  return found;
}
