/**
 * The host keys each git entry trusts, read on the host at start: the lines pinned in the
 * manifest (`host_keys`), else the entry's known_hosts file (the operator's ~/.ssh/known_hosts by
 * default). A missing file trusts nothing, so the gate refuses every host key: fail closed. These
 * are public keys, not secrets; they travel in sidecar.json.
 */
import fs from "node:fs";
import type { BottlePlan } from "../plan/bottle-plan.js";

export function readKnownHosts(plan: BottlePlan): Record<string, string> {
  const known: Record<string, string> = {};
  for (const entry of plan.git) {
    if (entry.host_keys.length > 0) {
      known[entry.name] = `${entry.host_keys.join("\n")}\n`;
      continue;
    }
    try {
      known[entry.name] = fs.readFileSync(entry.known_hosts, "utf8");
    } catch {
      known[entry.name] = "";
    }
  }
  return known;
}
