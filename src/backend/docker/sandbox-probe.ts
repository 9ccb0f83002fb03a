/**
 * `bottle doctor`'s probe: a throwaway container made the way a bottle's agent is (no network,
 * no capabilities, the agent's uid, its process limits, the runtime bottles use) runs the
 * everyday shell commands that broke under old gVisor, and forks past its process limit. The
 * container is removed whatever happens; it carries no bottle identity, so cleanup never lists it.
 */
import type { EngineClient } from "./engine-client.js";
import type { RuntimeName } from "../../core/plan/bottle-plan.js";
import { containerPidsLimit } from "../../core/plan/process-limits.js";
import { AGENT_UID } from "./workspace.js";

/** The agent's process limit in the probe: small, so forking past it is quick. */
export const PROBE_PIDS = 16;
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Prints key=value lines: ls -la's and stat's exit codes, how many entries ls could not read
 * (`?????????`), the exit of a subshell that forks four times past the limit, and `alive` when
 * the sandbox is still there after it.
 */
export const PROBE_SCRIPT = [
  `out=$(ls -la / 2>&1); echo "ls-exit=$?"`,
  `echo "ls-unknown=$(printf '%s\\n' "$out" | grep -c '?????????')"`,
  `echo "ls-first-error=$(printf '%s\\n' "$out" | grep -m1 '^ls:')"`,
  `echo "ls-ebadf=$(printf '%s\\n' "$out" | grep -c 'Bad file descriptor')"`,
  `stat / >/dev/null 2>&1; echo "stat-exit=$?"`,
  `( i=0; while [ $i -lt ${PROBE_PIDS * 4} ]; do sleep 3 & i=$((i+1)); done ) 2>/dev/null; echo "fork-exit=$?"`,
  `echo alive`,
].join("\n");

export interface ProbeOutcome {
  /** Container exit code (non-zero with no `alive` line: the sandbox died). */
  exitCode: number;
  output: string;
}

/** Runs the probe in `image` under `runtime`; throws only when the engine refuses the container. */
export async function runSandboxProbe(
  docker: EngineClient,
  image: string,
  runtime: RuntimeName,
): Promise<ProbeOutcome> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ["sh", "-c"],
    Cmd: [PROBE_SCRIPT],
    User: `${AGENT_UID}:${AGENT_UID}`,
    Labels: { "bot-bottle.role": "doctor-probe" },
    HostConfig: {
      NetworkMode: "none",
      Runtime: runtime,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      PidsLimit: containerPidsLimit(PROBE_PIDS, runtime),
      Ulimits: runtime === "runsc" ? [{ Name: "nproc", Soft: PROBE_PIDS, Hard: PROBE_PIDS }] : [],
      Memory: 256 * 1024 ** 2,
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await container.start();
    // A sandbox that hangs is removed (finally) and reported as dead.
    const timeout = new Promise<{ StatusCode: number }>((resolve) => {
      timer = setTimeout(() => {
        resolve({ StatusCode: -1 });
      }, PROBE_TIMEOUT_MS);
    });
    const { StatusCode } = await Promise.race([container.wait(), timeout]);
    const logs = await container.logs();
    return { exitCode: StatusCode, output: logs.toString("utf8") };
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true }).catch(() => undefined);
  }
}
