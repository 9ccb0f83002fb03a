/**
 * What a quarantined push holds, read with git: whether each update fast-forwards, and whether
 * the objects it names are all there. What it adds is scanned in added-content.ts.
 */
import type { GitEnv } from "./git-process.js";
import { gitComplaint, runGit } from "./git-process.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { RefUpdateCommand } from "./receive-pack.js";

export async function withFastForward(
  env: GitEnv,
  commands: readonly RefUpdateCommand[],
): Promise<RefUpdate[]> {
  return Promise.all(
    commands.map(async (command) => {
      if (command.old === ZERO_ID || command.new === ZERO_ID)
        return { ...command, fastForward: true };
      const result = await runGit(["merge-base", "--is-ancestor", command.old, command.new], {
        env,
      });
      return { ...command, fastForward: result.code === 0 };
    }),
  );
}

/**
 * Whether every object the pushed tips need is there (in the quarantine or the mirror): the
 * reason the push is incomplete, or null. Without this, a push could name objects it never sent.
 */
export async function missingObjects(env: GitEnv, tips: readonly string[]): Promise<string | null> {
  if (tips.length === 0) return null;
  const result = await runGit(["rev-list", "--objects", "--quiet", ...tips, "--not", "--all"], {
    env,
  });
  return result.code === 0 ? null : `missing objects: ${gitComplaint(result.stderr)}`;
}
