/**
 * The host's client of a sidecar's control socket (see src/sidecar/control-server.ts). Requests
 * carry secrets (PUT /secrets); nothing here logs a body.
 */
import { z } from "zod";
import { egressRulesSchema, parseContract } from "../../core/contract/contract.js";
import { BottleError } from "../../core/errors.js";
import type { EgressRules } from "../../core/policy/policy-change.js";
import type { PolicyEdit } from "../../core/policy/policy-edit.js";
import { controlRequest } from "./control-request.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";

/** A refused policy edit's answer: the BottleError the sidecar's edit threw (a `usage` one). */
const refusedEditSchema = z.object({
  error: z.string(),
  code: z.literal("usage"),
  hint: z.string().nullable(),
});

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

/** A 400 that carries an edit's own BottleError (nothing to remove, a bad host): that error. */
function refusal(text: string): BottleError | undefined {
  try {
    const parsed = refusedEditSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const { error, code, hint } = parsed.data;
    return new BottleError(code, error, hint === null ? {} : { hint });
  } catch {
    return undefined;
  }
}

/**
 * Hands one policy edit to the running sidecar, which applies it to the rules in force, saves
 * policy.json and answers the new rules. Throws the edit's BottleError (`usage`) when it cannot
 * apply, `bottle_not_running` when the sidecar does not answer or cannot save.
 */
export async function editLivePolicy(paths: BottlePaths, edit: PolicyEdit): Promise<EgressRules> {
  const answer = await controlRequest(
    paths.controlSocket,
    "POST",
    "/policy/edit",
    edit,
    5000,
    (status, text) => (status === 400 ? refusal(text) : undefined),
  );
  return parseContract(egressRulesSchema, answer, "the sidecar's rules");
}

/**
 * Asks the sidecar to write its rules in force to policy.json before it is removed (it already
 * does after every change; this covers a save that failed). The host never writes the file from
 * rules it read: a `once` rule spent in between would come back. A sidecar that does not answer
 * leaves policy.json as it last wrote it.
 */
export async function saveLiveRules(paths: BottlePaths): Promise<void> {
  try {
    await controlRequest(paths.controlSocket, "POST", "/policy/save", {}, 2000);
  } catch {
    // Nothing to save from a sidecar that is gone.
  }
}
