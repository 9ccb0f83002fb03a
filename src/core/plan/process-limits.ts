/**
 * How a bottle's `pids` becomes two limits (PURE).
 *
 * `pids` is what the agent may run: the processes and threads inside the bottle. Past it, fork
 * and clone fail with EAGAIN: the command that asked for one more process fails ("fork: Resource
 * temporarily unavailable"), the bottle does not.
 *
 * Under runc that is simply the container's pids cgroup: the kernel fails the fork. (RLIMIT_NPROC
 * is no use there: it counts every process of the uid on the host, and every bottle's agent is
 * uid 1500.) Under runsc it is the agent user's RLIMIT_NPROC (`ulimit -u`), which gVisor's own
 * kernel counts per sandbox.
 *
 * The container's pids cgroup counts host tasks, and under gVisor those are not the agent's:
 * measured with runsc 0.0~20240729 (systrap), an idle sandbox holds about 27 host threads (the
 * sentry's and the gofer's) and every thread inside adds about two (its stub thread and the
 * sentry's side of it): 154 sleeping processes inside counted 342 in the cgroup. When the cgroup
 * is full, gVisor's own runtime cannot start a thread and the whole sandbox dies ("cgroup: fork
 * rejected by pids controller", exit 2), taking every process in the bottle with it. So the cgroup
 * limit is set with room above what RLIMIT_NPROC lets the agent reach: it is the backstop, never
 * the limit the agent meets first.
 */
import type { BottlePlan, RuntimeName } from "./bottle-plan.js";

/** Host tasks per agent thread under gVisor (measured: about 2). */
export const GVISOR_TASKS_PER_THREAD = 2;
/** Room for the runtime's own threads and root's processes (init, provisioning) above the agent's. */
export const CGROUP_HEADROOM = 256;

/** The container's pids cgroup limit for an agent limited to `pids` processes and threads. */
export function containerPidsLimit(pids: number, runtime: RuntimeName): number {
  return runtime === "runsc" ? pids * GVISOR_TASKS_PER_THREAD + CGROUP_HEADROOM : pids;
}

/** RLIMIT_NPROC of the agent's user: under runsc only (see above). */
export function agentNproc(pids: number, runtime: RuntimeName): number | undefined {
  return runtime === "runsc" ? pids : undefined;
}

/**
 * The plan once the engine has decided its runtime: the runtime and the cgroup limit that
 * depends on it change together (start plans before it asks the engine).
 */
export function withRuntime(plan: BottlePlan, runtime: BottlePlan["runtime"]): BottlePlan {
  return {
    ...plan,
    runtime,
    resources: {
      ...plan.resources,
      container_pids: containerPidsLimit(plan.resources.pids, runtime.resolved),
    },
  };
}
