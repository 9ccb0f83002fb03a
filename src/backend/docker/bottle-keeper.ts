/**
 * A start's part in keeping secrets: hands the bottle to its state home's keeper (keeper-spawn.ts)
 * and says what the operator should know. Each start hands over its own bottle only: the CLI
 * holds no other bottle's secrets (they were read from the environment of that bottle's own
 * start). So when a start had to start the home's keeper again (it had died), running bottles of
 * the home that it had kept have none now; their sidecars stay closed if they restart, and the
 * start names them with what gives them a keeper back: stopping and resuming each.
 */
import fs from "node:fs";
import { keeperFilesOf } from "./keeper-protocol.js";
import { keepBottle } from "./keeper-spawn.js";
import { commandLines } from "../../core/command-lines.js";
import type { SidecarSecrets } from "../../core/contract/contract.js";
import type { HostEnv } from "../../core/host/paths.js";
import { botBottleHome } from "../../core/host/paths.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { bottlePaths, listStateIdentities, readMetadata } from "../../core/state/bottle-state.js";
import { processAlive } from "../../core/host/process-alive.js";

function keeperPidOf(paths: BottlePaths): number | undefined {
  try {
    const pid = Number(fs.readFileSync(keeperFilesOf(paths, "").pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Running bottles of the home, other than `except`, whose keeper is gone. */
export function bottlesWithoutKeeper(host: HostEnv, except: string): string[] {
  return listStateIdentities(host).filter((identity) => {
    if (identity === except) return false;
    const paths = bottlePaths(host, identity);
    if (readMetadata(paths)?.status !== "running") return false;
    const pid = keeperPidOf(paths);
    return pid === undefined || !processAlive(pid);
  });
}

/**
 * Gets the bottle kept; resolves with the warnings to print (none when all is well). Never
 * rejects: a start goes on without a keeper, its sidecar then stays closed if it restarts.
 */
export async function keepStartedBottle(
  host: HostEnv,
  paths: BottlePaths,
  identity: string,
  secrets: SidecarSecrets,
): Promise<string[]> {
  try {
    const kept = await keepBottle(botBottleHome(host), keeperFilesOf(paths, identity), secrets);
    if (kept.keeper === "found") return [];
    return bottlesWithoutKeeper(host, identity).map(
      (other) =>
        `warning: bottle ${other} lost its secret keeper; if its sidecar restarts it stays closed until \`${commandLines.stop(other)}\` and \`${commandLines.resume(other)}\``,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [
      `warning: ${reason}; if the sidecar restarts it stays closed until \`${commandLines.stop(identity)}\` and \`${commandLines.resume(identity)}\``,
    ];
  }
}
