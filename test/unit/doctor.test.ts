import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkRunsc } from "../../src/cli/commands/doctor.js";
import type { EngineInfo } from "../../src/backend/docker/engine.js";
import { cli, makeSandbox } from "../helpers/cli.js";

function info(runtimes: EngineInfo["runtimes"]): EngineInfo {
  return { version: "20.10", apiVersion: "1.41", runtimes, defaultRuntime: "runc" };
}

describe("doctor", () => {
  it("accepts runsc registered with the flags bottles need", () => {
    const check = checkRunsc(
      info([
        { name: "runsc", path: "/usr/bin/runsc", args: ["--network=none", "--fsgofer-host-uds"] },
      ]),
    );
    assert.equal(check.status, "ok");
    assert.match(check.detail, /--network=none --fsgofer-host-uds/);
  });

  it("accepts newer gVisor's --host-uds=open", () => {
    assert.equal(
      checkRunsc(info([{ name: "runsc", path: "/x", args: ["--network=none", "--host-uds=open"] }]))
        .status,
      "ok",
    );
  });

  it("prints the daemon.json lines when runsc is missing", () => {
    const check = checkRunsc(info([{ name: "runc", path: "runc", args: [] }]));
    assert.equal(check.status, "warn");
    assert.match(check.fix ?? "", /"runtimeArgs": \[\s*"--network=none",\s*"--host-uds=open"\s*\]/);
  });

  it("names the missing flags when runsc lacks them", () => {
    const check = checkRunsc(info([{ name: "runsc", path: "/usr/bin/runsc", args: [] }]));
    assert.equal(check.status, "warn");
    assert.match(check.fix ?? "", /--network=none --host-uds=open/);
  });

  it("fails with exit code 1 and a remedy when no engine answers", async () => {
    const box = makeSandbox();
    const result = await cli(["doctor"], box, { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL\s+engine/);
    assert.match(result.stdout, /Start dockerd/);
    assert.match(result.stderr, /block starting a bottle: engine/);
  });
});
