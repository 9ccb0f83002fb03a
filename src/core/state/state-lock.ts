/**
 * A lock file in a bottle's state folder, for host-side read-modify-write of a state file that
 * several operator processes may change at once (two `bottle approve` runs, the dashboard).
 *
 * Taken with O_EXCL (`wx`): the file holds the holder's pid and a random token. A waiter polls
 * until the holder releases it; a lock whose pid is no longer alive (a killed approval) is stale
 * and is broken (see breakStale). The state home is local to this host, so pids are comparable.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { BottleError } from "../errors.js";
import { processAlive } from "../host/process-alive.js";

export interface LockOptions {
  /** How long to wait for a held lock before giving up (ms). */
  waitMs?: number;
  /** Whether a pid is alive (injected in tests). */
  alive?: (pid: number) => boolean;
}

interface Holder {
  pid: number;
  token: string;
}

/** PURE: the holder written in a lock file, or undefined when the text is not one. */
export function parseHolder(text: string): Holder | undefined {
  const match = /^(\d+) ([0-9a-f]+)\n?$/.exec(text);
  if (match === null) return undefined;
  return { pid: Number(match[1]), token: match[2] ?? "" };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined; // released meanwhile
  }
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}

/**
 * Removes `file` if it still holds `seen` (a dead holder's text). Every removal of a stale lock
 * happens under `file.break` (taken with O_EXCL, held for a read and an unlink), so two breakers
 * can never remove a fresh lock: while `file` exists no one can write it, and a dead holder never
 * releases it. A break lock left by a breaker killed in those microseconds is removed when old.
 */
function breakStale(file: string, seen: string): void {
  const guard = `${file}.break`;
  try {
    fs.writeFileSync(guard, "", { flag: "wx", mode: 0o600 });
  } catch {
    if (olderThan(guard, 10_000)) fs.rmSync(guard, { force: true });
    return; // another breaker is at it: look again
  }
  try {
    if (readText(file) === seen) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function tryTake(file: string, mine: string, alive: (pid: number) => boolean): boolean {
  try {
    fs.writeFileSync(file, mine, { flag: "wx", mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const text = readText(file);
  if (text === undefined) return false; // released meanwhile: try again
  const holder = parseHolder(text);
  // Unreadable text may be a lock being written (wx creates it empty first): stale only when old.
  const stale = holder === undefined ? olderThan(file, 10_000) : !alive(holder.pid);
  if (stale) breakStale(file, text);
  return false;
}

/**
 * Runs `action` holding the lock `file`, and releases it after (only if it is still ours).
 * Throws BottleError `state_busy` when another live process holds it for longer than waitMs.
 */
export async function withStateLock<T>(
  file: string,
  action: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const alive = options.alive ?? processAlive;
  const mine = `${String(process.pid)} ${randomBytes(8).toString("hex")}\n`;
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  let delay = 5;
  while (!tryTake(file, mine, alive)) {
    if (Date.now() > deadline) {
      throw new BottleError("state_busy", `Another process holds ${file}.`, {
        hint: "Another approval of this bottle is being saved; try again. If none is running, remove the file.",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await action();
  } finally {
    if (readText(file) === mine) fs.rmSync(file, { force: true });
  }
}
