/**
 * The egress rules in force for a bottle: `policy.json` in its state folder once the operator
 * changed them, else the plan's. The sidecar reads the same file at start (with the same parser,
 * core/contract/saved-rules.ts), so `resume` keeps every change.
 */
import fs from "node:fs";
import path from "node:path";
import { BottleError } from "../errors.js";
import type { EgressRules } from "../policy/policy-change.js";
import { POLICY_FILE, parseSavedRules } from "../contract/saved-rules.js";
import type { BottlePaths } from "./bottle-state.js";
import { readPlan, writeJsonAtomic } from "./bottle-state.js";

export function policyFile(paths: BottlePaths): string {
  return path.join(paths.dir, POLICY_FILE);
}

export function readRules(paths: BottlePaths): EgressRules | undefined {
  const file = policyFile(paths);
  if (fs.existsSync(file)) {
    try {
      return parseSavedRules(fs.readFileSync(file, "utf8"), file);
    } catch (error) {
      throw new BottleError(
        "state_invalid",
        error instanceof Error ? error.message : String(error),
        {
          hint: "Fix or remove the file (removing it brings back the plan's rules); the sidecar refuses to start on it.",
        },
      );
    }
  }
  const plan = readPlan(paths);
  return plan === undefined ? undefined : { allow: plan.egress.allow, deny: plan.egress.deny };
}

export function writeRules(paths: BottlePaths, rules: EgressRules): void {
  writeJsonAtomic(policyFile(paths), rules);
}
