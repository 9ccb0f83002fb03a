/**
 * What the CLI and the state home's secret keeper say to each other (see home-keeper.ts), as pure
 * data and checks: one registration per connection, one JSON line each way, over a 0600 unix
 * socket in the state home. A registration carries the bottle's secrets: nothing here logs one,
 * and a malformed line is refused without being echoed. Loads no schema library (the keeper's
 * process stays small; keeper-checks.ts is as strict as the contract's schemas).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { SidecarSecrets } from "../../core/contract/contract.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { isSidecarSecrets } from "../../core/contract/keeper-checks.js";

/** One bottle handed to the keeper: where its sidecar and state are, and its secrets. */
export interface KeeperRegistration {
  identity: string;
  controlSocket: string;
  /** metadata.json: the keeper stops keeping the bottle when it says neither starting nor running. */
  metadataFile: string;
  /** The bottle's keeper.log: hand-overs and failures, never a secret. */
  logFile: string;
  /** The bottle's keeper.pid: the keeper writes its own pid there when it takes the bottle. */
  pidFile: string;
  secrets: SidecarSecrets;
}

/** Where the keeper reaches a bottle and keeps its log and pid (all but the secrets). */
export function keeperFilesOf(
  paths: Pick<BottlePaths, "dir" | "controlSocket" | "metadata">,
  identity: string,
): Omit<KeeperRegistration, "secrets"> {
  return {
    identity,
    controlSocket: paths.controlSocket,
    metadataFile: paths.metadata,
    logFile: path.join(paths.dir, "keeper.log"),
    pidFile: path.join(paths.dir, "keeper.pid"),
  };
}

export type KeeperAnswer = { ok: true; pid: number } | { ok: false; reason: string };

/** A registration line is never longer than this; a longer one is refused unread. */
export const MAX_REGISTRATION_BYTES = 1024 * 1024;

/** The keeper's socket and its log, in the state home. */
export function keeperSocketPath(home: string): string {
  return path.join(home, "keeper.sock");
}

export function keeperLogPath(home: string): string {
  return path.join(home, "keeper.log");
}

/**
 * The name of the abstract unix socket (Linux) whose bind is the home's keeper lock: the kernel
 * releases it when its holder dies, so a killed keeper never leaves a stale lock. Per user and
 * per state home (its socket's path); it carries no data (the keeper accepts nothing on it).
 */
export function keeperLockName(socketPath: string, uid: number): string {
  const digest = createHash("sha256").update(socketPath).digest("hex").slice(0, 32);
  return `\0bot-bottle-keeper-${String(uid)}-${digest}`;
}

const isPath = (value: unknown): value is string =>
  typeof value === "string" && value !== "" && path.isAbsolute(value);

/** The registration in a line, or undefined when it is not exactly one. */
export function parseRegistration(line: string): KeeperRegistration | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  const keys = ["identity", "controlSocket", "metadataFile", "logFile", "pidFile", "secrets"];
  if (Object.keys(r).some((k) => !keys.includes(k))) return undefined;
  const { identity, controlSocket, metadataFile, logFile, pidFile, secrets } = r;
  if (typeof identity !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(identity))
    return undefined;
  if (![controlSocket, metadataFile, logFile, pidFile].every(isPath)) return undefined;
  if (!isSidecarSecrets(secrets)) return undefined;
  return {
    identity,
    controlSocket: controlSocket as string,
    metadataFile: metadataFile as string,
    logFile: logFile as string,
    pidFile: pidFile as string,
    secrets,
  };
}

export function answerLine(answer: KeeperAnswer): string {
  return `${JSON.stringify(answer)}\n`;
}

/** The keeper's answer in a line, or undefined when it is not one. */
export function parseAnswer(line: string): KeeperAnswer | undefined {
  try {
    const value = JSON.parse(line) as Record<string, unknown> | null;
    if (value?.["ok"] === true && Number.isInteger(value["pid"]) && Number(value["pid"]) > 0)
      return { ok: true, pid: Number(value["pid"]) };
    if (value?.["ok"] === false && typeof value["reason"] === "string")
      return { ok: false, reason: value["reason"] };
  } catch {
    // Not JSON: not an answer.
  }
  return undefined;
}
