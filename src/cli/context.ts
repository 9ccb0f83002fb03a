/** What a command gets from the entry point: the host, and where to write. */
import os from "node:os";
import type { HostEnv } from "../core/host/paths.js";

export interface Output {
  /** Results: what a script would read (JSON, tables). */
  out(text: string): void;
  /** Progress, warnings and errors: for the person at the terminal. */
  err(text: string): void;
}

export interface CommandContext {
  host: HostEnv;
  io: Output;
  /**
   * Asks the operator a yes/no question; resolves false on anything but yes. Undefined when no
   * one can answer (stdin is not a terminal): commands then require --yes.
   */
  confirm: ((question: string) => Promise<boolean>) | undefined;
}

/**
 * Who the operator is, as recorded with a decision or a rule: `cli:<user>` from $USER (or the
 * account name when unset).
 */
export function operatorName(ctx: CommandContext): string {
  const user = ctx.host.env["USER"] ?? ctx.host.env["LOGNAME"];
  if (user !== undefined && user !== "") return `cli:${user}`;
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return "cli";
  }
}
