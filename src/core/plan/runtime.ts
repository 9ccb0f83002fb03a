import { BottleError } from "../errors.js";
import type { BottlePlan } from "./bottle-plan.js";

/** What is known of the engine's runtimes, and from where. */
export interface EngineFacts {
  runtimes: readonly string[];
  source: "engine" | "daemon-config";
}

/**
 * Chooses the container runtime: runsc whenever the engine has it and the manifest says `auto`.
 * A manifest that demands runsc on an engine known to lack it fails here, before anything starts.
 */
export function resolveRuntime(
  requested: "auto" | "runc" | "runsc",
  engine: EngineFacts | undefined,
): BottlePlan["runtime"] {
  const hasRunsc = engine?.runtimes.includes("runsc") ?? false;
  if (requested === "runc") return { requested, resolved: "runc", decided_by: "manifest" };
  if (requested === "runsc") {
    if (engine !== undefined && !hasRunsc) {
      throw new BottleError(
        "runtime_unavailable",
        "The manifest asks for runtime runsc (gVisor), but the Docker engine has no runsc runtime.",
        {
          hint: "Register runsc in /etc/docker/daemon.json (`bottle doctor` prints the lines) and restart dockerd, or set runtime: auto.",
        },
      );
    }
    return { requested, resolved: "runsc", decided_by: "manifest" };
  }
  if (engine === undefined) return { requested, resolved: "runc", decided_by: "default" };
  return { requested, resolved: hasRunsc ? "runsc" : "runc", decided_by: engine.source };
}
