/**
 * The egress rules in force for a bottle: `policy.json` in its state folder once the operator
 * changed them, else the plan's. The sidecar reads the same file at start, so `resume` keeps
 * every change.
 */
import path from "node:path";
import type { EgressRules } from "../policy/policy-change.js";
import type { BottlePaths } from "./bottle-state.js";
import { readJson, readPlan, writeJsonAtomic } from "./bottle-state.js";

export function policyFile(paths: BottlePaths): string {
  return path.join(paths.dir, "policy.json");
}

export function readRules(paths: BottlePaths): EgressRules | undefined {
  const saved = readJson(policyFile(paths)) as EgressRules | undefined;
  if (saved !== undefined) return saved;
  const plan = readPlan(paths);
  return plan === undefined ? undefined : { allow: plan.egress.allow, deny: plan.egress.deny };
}

export function writeRules(paths: BottlePaths, rules: EgressRules): void {
  writeJsonAtomic(policyFile(paths), rules);
}
