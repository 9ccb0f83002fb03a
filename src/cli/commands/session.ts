import type { DockerBackend } from "../../backend/docker/docker-backend.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { restartNoticeArgs } from "../../core/image/restart-notice.js";
import type { CommandContext } from "../context.js";

/**
 * An attached session: the agent program on this terminal; when it exits (or this process is
 * told to end), the bottle is stopped: workspace saved, every engine object removed, state kept
 * for `bottle resume`.
 */
export async function runSession(
  backend: DockerBackend,
  plan: BottlePlan,
  ctx: CommandContext,
  command: readonly string[] = plan.command,
): Promise<number> {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= backend.stop(plan.identity).then(() => {
      ctx.io.err(`Bottle ${plan.identity} stopped. Resume it: bottle resume ${plan.identity}`);
    });
    return stopping;
  };
  const onSignal = (): void => {
    void stop();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGHUP", onSignal);
  try {
    let code = await backend.attach(plan.identity, command);
    // An image change restarts the bottle under this session: wait for it, then continue the
    // conversation on the new image, telling the agent why its session was cut.
    while (stopping === undefined && (await backend.waitWhileRestarting(plan.identity))) {
      ctx.io.err(`Bottle ${plan.identity} restarted on its new image; attaching again.`);
      code = await backend.attach(plan.identity, [
        ...plan.resume_command,
        ...restartNoticeArgs(plan.provider),
      ]);
    }
    return code;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    await stop();
  }
}
