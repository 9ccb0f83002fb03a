/**
 * The host's client of a sidecar's control socket (see src/sidecar/control-server.ts). Requests
 * carry secrets (PUT /secrets); nothing here logs a body.
 */
import { egressRulesSchema } from "../../core/contract/contract.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { writeRules } from "../../core/state/policy-store.js";
import { controlRequest } from "./control-request.js";

export { controlRequest } from "./control-request.js";

/** Asks the sidecar's control socket for its health; false on any failure. */
export async function probeSidecar(controlSocket: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await controlRequest(controlSocket, "GET", "/health", undefined, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Saves the rules the sidecar holds as policy.json before it is removed, so that resume starts
 * from them: the sidecar drops `once` rules it spent, which policy.json still lists otherwise. A
 * sidecar that does not answer (or answers rules that do not parse) leaves policy.json as it is.
 */
export async function saveLiveRules(paths: BottlePaths): Promise<void> {
  try {
    const live = await controlRequest(paths.controlSocket, "GET", "/policy", undefined, 2000);
    const parsed = egressRulesSchema.safeParse(live);
    if (parsed.success) writeRules(paths, parsed.data);
  } catch {
    // Nothing to save from a sidecar that is gone.
  }
}
