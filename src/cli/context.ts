/** What a command gets from the entry point: the host, and where to write. */
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
