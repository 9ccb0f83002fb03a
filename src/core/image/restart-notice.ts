/**
 * PURE: what the agent is told at its first prompt after its bottle restarted on a new image
 * (an approved image change), for programs that take a first prompt on the command line.
 */
export const RESTART_NOTICE =
  "[bot-bottle] The operator approved your image change and the bottle restarted on the new image: same workspace and conversation. What the change installs is available now; carry on where you left off.";

/** Arguments that hand the notice to the agent program as its first prompt (none for a shell). */
export function restartNoticeArgs(provider: string): string[] {
  return provider === "claude" || provider === "codex" ? [RESTART_NOTICE] : [];
}
