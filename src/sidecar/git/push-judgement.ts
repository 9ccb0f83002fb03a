/**
 * The verdict on a quarantined push: its refs (push-policy.ts), its size, whether its objects are
 * all there, and what it adds (added-content.ts, under the bottle's dlp mode).
 */
import type { ContentFinding } from "../shared/content-inspector.js";
import { describeFinding } from "../shared/content-inspector.js";
import { scanAddedContent } from "./added-content.js";
import type { GateContext, GatedRepo } from "./gate-repo.js";
import { missingObjects, withFastForward } from "./push-inspection.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID, judgePush, refusalsByRef } from "./push-policy.js";
import type { Quarantine } from "./quarantine.js";
import type { RefUpdateCommand } from "./receive-pack.js";

export type Judgement =
  | { allowed: true; updates: RefUpdate[]; finding?: string }
  | { allowed: false; reason: string; finding?: string; byRef?: Map<string, string> };

/**
 * The verdict on a quarantined push: its refs (policy, force, delete), its size, whether its
 * objects are all there, and what it adds (content checks, under the bottle's dlp mode).
 */
export async function judgeQuarantinedPush(
  gate: GateContext,
  repo: GatedRepo,
  commands: readonly RefUpdateCommand[],
  quarantine: Quarantine,
): Promise<Judgement> {
  // Past the size limit the objects were never read: the size alone refuses it.
  const updates: RefUpdate[] = quarantine.tooBig
    ? commands.map((c) => ({ ...c, fastForward: true }))
    : await withFastForward(quarantine.env, commands);
  const verdict = judgePush(repo.push, updates, quarantine.bytes);
  if (!verdict.allowed) {
    const byRef = verdict.refs.some((v) => !v.allowed) ? refusalsByRef(verdict.refs) : undefined;
    return { allowed: false, reason: verdict.reason, ...(byRef === undefined ? {} : { byRef }) };
  }
  const tips = updates.filter((u) => u.new !== ZERO_ID).map((u) => u.new);
  const missing = await missingObjects(quarantine.env, tips);
  if (missing !== null) return { allowed: false, reason: missing };
  if (gate.dlp === "off") return { allowed: true, updates };
  let found: ContentFinding | null;
  try {
    found = await scanAddedContent(quarantine.env, tips, gate.scan);
  } catch (error) {
    return { allowed: false, reason: `its content could not be checked: ${String(error)}` };
  }
  if (found === null) return { allowed: true, updates };
  const finding = describeFinding(found);
  if (gate.dlp === "warn") return { allowed: true, updates, finding };
  return {
    allowed: false,
    finding,
    reason:
      `it adds what looks like a secret (${found.kind}, in ${found.where.replace(/^path /, "")}); ` +
      "remove it from the commits (rewrite them) and push again",
  };
}
