/**
 * Whether a process of this host is alive, for the pids the state home records (a start, a
 * keeper, a lock's holder, a pool's claim): signal 0 reaches it, or it exists and belongs to
 * another user (EPERM). Counting EPERM as alive errs toward keeping what such a pid holds.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
