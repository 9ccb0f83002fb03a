/**
 * doctor's judgement of its sandbox probe, on the probe's real output as printed by bookworm's
 * runsc (0.0~20221219: statx fails, issue 12 item 9) and by bookworm-backports' (0.0~20240729),
 * both run on these machines, and by a sandbox that died under its pids cgroup (item 7).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeProcessLimit, judgeShell } from "../../src/cli/commands/sandbox-checks.js";
import { PROBE_SCRIPT } from "../../src/backend/docker/sandbox-probe.js";

const OLD_RUNSC = `ls-exit=2
ls-unknown=0
ls-first-error=ls: cannot access '/': Invalid argument
ls-ebadf=0
stat-exit=1
fork-exit=2
alive
`;

const NEW_RUNSC = `ls-exit=0
ls-unknown=0
ls-first-error=ls: /root: Permission denied
ls-ebadf=4
stat-exit=0
fork-exit=2
alive
`;

describe("doctor's sandbox checks", () => {
  it("says what to install when ls -la fails under runsc", () => {
    const check = judgeShell({ exitCode: 0, output: OLD_RUNSC }, "runsc");
    assert.equal(check.status, "warn");
    assert.match(check.detail, /ls -la exit 2.*Invalid argument/);
    assert.match(check.fix ?? "", /apt-get install -y -t bookworm-backports runsc/);
    assert.match(check.fix ?? "", /Suites: bookworm-backports/);
    assert.match(check.fix ?? "", /"--network=none", "--host-uds=open"/);
  });

  it("accepts the backports runsc, naming its symlink notice", () => {
    const check = judgeShell({ exitCode: 0, output: NEW_RUNSC }, "runsc");
    assert.equal(check.status, "ok");
    assert.match(check.detail, /Bad file descriptor/);
  });

  it("counts entries ls could not read as a failure", () => {
    const output = NEW_RUNSC.replace("ls-unknown=0", "ls-unknown=3");
    assert.equal(judgeShell({ exitCode: 0, output }, "runsc").status, "warn");
  });

  it("fails when the sandbox died forking past its limit", () => {
    const check = judgeProcessLimit({ exitCode: 2, output: "ls-exit=0\n" }, "runsc");
    assert.equal(check.status, "fail");
    assert.match(check.detail, /died.*exit 2/);
  });

  it("is fine when the forking command failed and the sandbox lived", () => {
    const check = judgeProcessLimit({ exitCode: 0, output: NEW_RUNSC }, "runsc");
    assert.equal(check.status, "ok");
    assert.match(check.detail, /RLIMIT_NPROC.*2 x pids \+ 256/);
  });

  it("warns when the runtime let the command fork past RLIMIT_NPROC", () => {
    const output = NEW_RUNSC.replace("fork-exit=2", "fork-exit=0");
    assert.equal(judgeProcessLimit({ exitCode: 0, output }, "runsc").status, "warn");
  });

  it("probes ls -la, stat and a fork storm", () => {
    assert.match(PROBE_SCRIPT, /ls -la \//);
    assert.match(PROBE_SCRIPT, /stat \//);
    assert.match(PROBE_SCRIPT, /sleep 3 &/);
  });
});
