/** Probes of a running sidecar container from the host: its process's memory and open files. */
import { demux, docker } from "./docker.js";

/** Runs `command` with sh in `container` as its own user; stdout and stderr together. */
export async function execIn(container: string, command: string): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ["sh", "-c", command],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ Detach: false, Tty: false });
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", reject);
  });
  return demux(Buffer.concat(chunks)).trim();
}

/** The pid of the sidecar's node process (under the container's init). */
const NODE_PID = `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = node ] && { echo \${p#/proc/}; break; }; done`;

/** Resident memory of the sidecar's node process, in KiB. */
export async function sidecarRssKiB(container: string): Promise<number> {
  const out = await execIn(container, `pid=$(${NODE_PID}); grep VmRSS /proc/$pid/status`);
  const match = /VmRSS:\s+(\d+)/.exec(out);
  if (match === null) throw new Error(`no VmRSS in: ${out}`);
  return Number(match[1]);
}

/** Open file descriptors of the sidecar's node process, sockets among them. */
export async function sidecarFds(container: string): Promise<{ all: number; sockets: number }> {
  const out = await execIn(
    container,
    `pid=$(${NODE_PID}); ls -l /proc/$pid/fd | tail -n +2 | wc -l; ls -l /proc/$pid/fd | grep -c socket: || true`,
  );
  const [all, sockets] = out.split("\n").map(Number);
  return { all: all ?? NaN, sockets: sockets ?? NaN };
}
