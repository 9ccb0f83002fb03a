/**
 * PURE: what `bottle attach` runs in the agent container. A bottle whose agent's home holds a
 * conversation (after a resume, an image-change restart, or an earlier attach) continues it with
 * the plan's resume command; one without starts the program afresh.
 */
import type { Provider } from "../manifest/schema.js";
import type { BottlePlan } from "./bottle-plan.js";
import { providerSpec } from "./provider-spec.js";

/** The command that tells whether there is a conversation to continue (none: never continue). */
export function conversationProbeOf(plan: BottlePlan): readonly string[] | undefined {
  if (!["claude", "codex", "shell"].includes(plan.provider)) return undefined;
  return providerSpec(plan.provider as Provider).conversationProbe;
}

export function attachCommandOf(plan: BottlePlan, hasConversation: boolean): string[] {
  return hasConversation ? [...plan.resume_command] : [...plan.command];
}
