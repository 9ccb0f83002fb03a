/**
 * What `bottle doctor` makes of its sandbox probe (PURE): whether the agent's everyday shell
 * commands work under the runtime bottles use, and whether forking past the process limit fails
 * the command rather than the bottle. The probe itself is backend/docker/sandbox-probe.ts.
 */
import type { RuntimeName } from "../../core/plan/bottle-plan.js";
import type { ProbeOutcome } from "../../backend/docker/sandbox-probe.js";
import type { Check } from "./doctor.js";

function field(output: string, key: string): string | undefined {
  const line = output.split("\n").find((l) => l.startsWith(`${key}=`));
  return line?.slice(key.length + 1).trim();
}

/** What to run on a Debian bookworm host to get a runsc whose statx works, and register it. */
export const BACKPORTS_RUNSC_FIX = [
  'gVisor older than 2024 fails statx (AT_NO_AUTOMOUNT): the agent\'s ls -la and stat print `?????????` / "Invalid argument".',
  "On Debian bookworm, as root: install runsc from bookworm-backports and register it:",
  "  printf 'Types: deb\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n' > /etc/apt/sources.list.d/bot-bottle-bookworm-backports.sources",
  "  apt-get update && apt-get install -y -t bookworm-backports runsc",
  '  in /etc/docker/daemon.json: "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none", "--host-uds=open"]}',
  "  then restart dockerd (stopping it stops running bottles)",
  "scripts/setup-host.sh in bot-bottle's source does all of this.",
].join("\n");

/** A symlink from an image layer: gVisor 2024-07 answers ls -l's SELinux-label read with EBADF. */
const SYMLINK_LABEL_NOTE =
  ' (ls prints "Bad file descriptor" for symlinks from the image: this gVisor cannot read their SELinux label; the listing is complete)';

export function judgeShell(outcome: ProbeOutcome, runtime: RuntimeName): Check {
  const lsExit = field(outcome.output, "ls-exit");
  const unknown = field(outcome.output, "ls-unknown");
  const statExit = field(outcome.output, "stat-exit");
  const firstError = field(outcome.output, "ls-first-error") ?? "";
  if (lsExit === "0" && unknown === "0" && statExit === "0") {
    const ebadf = field(outcome.output, "ls-ebadf") ?? "0";
    const note = ebadf !== "0" ? SYMLINK_LABEL_NOTE : "";
    return { name: "shell", status: "ok", detail: `ls -la and stat work under ${runtime}${note}` };
  }
  const what =
    lsExit === undefined
      ? `the probe printed nothing (container exit ${outcome.exitCode})`
      : `ls -la exit ${lsExit}, ${unknown ?? "?"} unreadable entries, stat exit ${statExit ?? "?"}${firstError === "" ? "" : `: ${firstError}`}`;
  return {
    name: "shell",
    status: "warn",
    detail: `${what} (under ${runtime}); bottles start, but the agent's shell tools fail`,
    fix:
      runtime === "runsc" ? BACKPORTS_RUNSC_FIX : "Check the base image: it needs sh, ls and stat.",
  };
}

export function judgeProcessLimit(outcome: ProbeOutcome, runtime: RuntimeName): Check {
  const alive = outcome.output.split("\n").some((l) => l.trim() === "alive");
  const forkExit = field(outcome.output, "fork-exit");
  const how =
    runtime === "runsc"
      ? "pids in a manifest is the agent user's RLIMIT_NPROC; the container's pids cgroup is set higher (2 x pids + 256: gVisor's own threads count against it)"
      : "pids in a manifest is the container's pids cgroup (runc fails the fork, not the container)";
  if (!alive) {
    return {
      name: "pids",
      status: "fail",
      detail: `the sandbox died when a command forked past its process limit (exit ${outcome.exitCode})`,
      fix: `A bottle whose agent forks too much would die whole. ${how}; check that the engine passes ulimits (docker run --ulimit nproc=16).`,
    };
  }
  if (forkExit === "0") {
    return {
      name: "pids",
      status: "warn",
      detail: `${runtime} let a command fork past the process limit`,
      fix: "Under gVisor that kills the whole bottle; use a runsc from 2024 or later (see the shell check).",
    };
  }
  return {
    name: "pids",
    status: "ok",
    detail: `forking past the limit fails the command, the bottle stays up; ${how}`,
  };
}
