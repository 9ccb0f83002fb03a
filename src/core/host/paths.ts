/** Where bot-bottle keeps its files on the host, and `~` expansion for manifest paths. */
import os from "node:os";
import path from "node:path";

export interface HostEnv {
  /** The host environment (names and values; values are read, never printed). */
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  cwd: string;
}

export function currentHostEnv(): HostEnv {
  return { env: process.env, home: os.homedir(), cwd: process.cwd() };
}

/** `$BOT_BOTTLE_HOME`, defaulting to `~/.bot-bottle`. */
export function botBottleHome(host: HostEnv): string {
  const fromEnv = host.env["BOT_BOTTLE_HOME"];
  return fromEnv !== undefined && fromEnv !== ""
    ? path.resolve(host.cwd, fromEnv)
    : path.join(host.home, ".bot-bottle");
}

export function stateDir(host: HostEnv): string {
  return path.join(botBottleHome(host), "state");
}

/** Expands a leading `~/` and resolves relative paths against `base`. */
export function expandPath(file: string, home: string, base: string): string {
  if (file === "~") return home;
  if (file.startsWith("~/")) return path.join(home, file.slice(2));
  return path.resolve(base, file);
}

export function skillDir(home: string, skill: string): string {
  return path.join(home, ".claude", "skills", skill);
}
