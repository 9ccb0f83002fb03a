/** `bottle doctor` against the real Docker engine that .ci/run (scripts/setup-host.sh) starts. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess, makeSandbox } from "../helpers/cli.js";
import { BASE_IMAGE, docker } from "../helpers/docker.js";

interface DoctorJson {
  checks: { name: string; status: string; detail: string }[];
}

describe("doctor on a real engine", () => {
  it("sees the engine and runsc registered with the bottle flags", async () => {
    const box = makeSandbox();
    const env: Record<string, string> =
      process.env["DOCKER_HOST"] === undefined ? {} : { DOCKER_HOST: process.env["DOCKER_HOST"] };
    env["BOT_BOTTLE_BASE_IMAGE"] = BASE_IMAGE;
    await cliProcess(["init"], box);
    const result = await cliProcess(["doctor", "--json"], box, env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const { checks } = JSON.parse(result.stdout) as DoctorJson;
    const byName = new Map(checks.map((c) => [c.name, c]));
    assert.equal(byName.get("engine")?.status, "ok");
    assert.match(byName.get("engine")?.detail ?? "", /^Docker \d+\.\d+/);
    assert.equal(byName.get("runsc")?.status, "ok", byName.get("runsc")?.detail);
    assert.equal(byName.get("manifest")?.status, "ok");
    // The probe ran ls -la and stat in a throwaway runsc container, and forked past its limit.
    assert.equal(byName.get("shell")?.status, "ok", byName.get("shell")?.detail);
    assert.match(byName.get("shell")?.detail ?? "", /ls -la and stat work under runsc/);
    assert.equal(byName.get("pids")?.status, "ok", byName.get("pids")?.detail);
    const left = await docker.listContainers({
      all: true,
      filters: { label: ["bot-bottle.role=doctor-probe"] },
    });
    assert.equal(left.length, 0, "the probe container was left behind");
  });

  it("plans runsc for runtime: auto when the engine has it", async () => {
    const box = makeSandbox();
    await cliProcess(["init"], box);
    const result = await cliProcess(["start", "shell", "--dry-run", "--format", "json"], box);
    const plan = JSON.parse(result.stdout) as { runtime: { resolved: string } };
    assert.equal(plan.runtime.resolved, "runsc");
  });
});
