/**
 * The egress rules in force in a running sidecar, and their only writer. Everything that changes
 * them happens here, on the sidecar's one thread, each change followed at once by policy.json:
 *
 * - the operator's edits (POST /policy/edit): applied to the rules in force when they arrive
 *   (never a rule set the host read earlier), saved, then in force; a save that fails changes
 *   nothing and the host is told;
 * - a `once` rule spent by the request it let out (`spend`, called by the egress gate when the
 *   request is forwarded, after the content checks passed): removed, then saved. A save that
 *   fails is reported on stderr and the rule stays removed in memory (fail closed).
 *
 * The host writes policy.json only while the bottle is stopped; the sidecar reads it at start.
 */
import fs from "node:fs";
import path from "node:path";
import { POLICY_FILE, parseSavedRules } from "../core/contract/saved-rules.js";
import type { PlanEgressRule } from "../core/plan/bottle-plan.js";
import type { EgressRules } from "../core/policy/policy-change.js";
import type { PolicyEdit } from "../core/policy/policy-edit.js";
import { applyPolicyEdit } from "../core/policy/policy-edit.js";
import { writeJsonAtomic } from "../core/state/bottle-state.js";
import { withoutRule } from "./egress/egress-policy.js";

export class LivePolicy {
  private rules: EgressRules;
  private spent = 0;
  private readonly file: string;

  /**
   * The rules at start: policy.json in `stateDir` when the operator changed them, else `planned`.
   * A policy.json that cannot be parsed throws (the gates never open on rules the operator did
   * not set).
   */
  constructor(stateDir: string, planned: EgressRules) {
    this.file = path.join(stateDir, POLICY_FILE);
    this.rules = fs.existsSync(this.file)
      ? parseSavedRules(fs.readFileSync(this.file, "utf8"), this.file)
      : planned;
  }

  current(): EgressRules {
    return this.rules;
  }

  /** `once` rules spent since start (health). */
  onceConsumed(): number {
    return this.spent;
  }

  /**
   * Applies the operator's `edit` to the rules in force, saves them, then puts them in force.
   * Throws what the edit throws (a BottleError) or what the save throws; nothing changes then.
   */
  edit(edit: PolicyEdit): EgressRules {
    const next = applyPolicyEdit(this.rules, edit);
    writeJsonAtomic(this.file, next);
    this.rules = next;
    return next;
  }

  /** Writes the rules in force to policy.json again (asked by the host at stop). */
  save(): void {
    writeJsonAtomic(this.file, this.rules);
  }

  /**
   * Spends `rule` (a `once` rule) for a request about to be forwarded: true when it was still in
   * force and is now removed; false when it is not in force any more (another request spent it
   * since, or the operator removed it), and the request must not go out.
   */
  spend(rule: PlanEgressRule): boolean {
    const next = withoutRule(this.rules, rule);
    if (next === this.rules) return false;
    this.rules = next;
    this.spent += 1;
    try {
      writeJsonAtomic(this.file, this.rules);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(
        `bot-bottle: cannot save ${this.file} after a once rule was spent: ${message}\n`,
      );
    }
    return true;
  }
}
