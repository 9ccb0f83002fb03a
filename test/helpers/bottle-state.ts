/**
 * A bottle's state folder made without Docker: the plan of a real dry run, metadata with the
 * status a test needs, and (for a "running" bottle) a real ControlServer on the bottle's control
 * socket holding the rules in memory and saving them, as the sidecar does. For tests of the operator's commands.
 */
import fs from "node:fs";
import path from "node:path";
import type { EgressRules } from "../../src/core/policy/policy-change.js";
import { applyPolicyEdit } from "../../src/core/policy/policy-edit.js";
import type { BottlePlan } from "../../src/core/plan/bottle-plan.js";
import type { BottleStatus } from "../../src/core/state/bottle-state.js";
import {
  bottlePathsIn,
  createBottleState,
  metadataFromPlan,
  writeJsonAtomic,
} from "../../src/core/state/bottle-state.js";
import { ControlServer } from "../../src/sidecar/control-server.js";
import type { Sandbox } from "./cli.js";
import { cli, writeManifest } from "./cli.js";

export interface FakeBottle {
  identity: string;
  dir: string;
  plan: BottlePlan;
  requestsDir: string;
}

/** Plans `agent` of `manifest` with a dry run and writes its state as a bottle in `status`. */
export async function fakeBottle(
  box: Sandbox,
  manifest: string,
  agent: string,
  status: BottleStatus,
): Promise<FakeBottle> {
  writeManifest(box, manifest);
  const run = await cli(["start", agent, "--dry-run", "--format", "json"], box);
  if (run.code !== 0) throw new Error(run.stderr);
  const plan = JSON.parse(run.stdout) as BottlePlan;
  const dir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", plan.identity);
  const paths = bottlePathsIn(dir);
  createBottleState(paths);
  writeJsonAtomic(paths.plan, plan);
  writeJsonAtomic(paths.metadata, { ...metadataFromPlan(plan, new Date(), true), status });
  return { identity: plan.identity, dir, plan, requestsDir: path.join(dir, "requests") };
}

export interface FakeSidecar {
  rules(): EgressRules;
  branches(): Record<string, string[]>;
  stop(): Promise<void>;
}

/** A control socket answering like a running sidecar's (policy and push branches in memory). */
export async function fakeSidecar(bottle: FakeBottle): Promise<FakeSidecar> {
  let rules: EgressRules = { allow: bottle.plan.egress.allow, deny: bottle.plan.egress.deny };
  const branches: Record<string, string[]> = Object.fromEntries(
    bottle.plan.git.map((g) => [g.name, g.push.branches]),
  );
  const server = new ControlServer({
    health: () => ({ ok: true, state: "ready", identity: bottle.identity, gates: ["egress"] }),
    setSecrets: () => undefined,
    getPolicy: () => rules,
    // Like the sidecar: the edit applied to the rules held, then saved by it (its only writer).
    editPolicy: (edit) => {
      rules = applyPolicyEdit(rules, edit);
      writeJsonAtomic(path.join(bottle.dir, "policy.json"), rules);
      return rules;
    },
    savePolicy: () => {
      writeJsonAtomic(path.join(bottle.dir, "policy.json"), rules);
    },
    setPushBranches: (next) => {
      Object.assign(branches, next);
    },
  });
  const socket = path.join(bottle.dir, "control", "control.sock");
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  await server.listen({ path: socket, mode: 0o600 });
  return { rules: () => rules, branches: () => branches, stop: () => server.stop() };
}
