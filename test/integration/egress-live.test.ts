/**
 * Live policy and the audit log from the operator's side: `bottle policy` changes take effect on
 * the agent's very next request and survive stop/resume; `bottle logs` shows every verdict.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  dockerSandbox,
  shellManifest,
  startDetached,
  startUpstream,
} from "../helpers/docker.js";

const status = "curl -sS -o /dev/null -w '%{http_code}' http://other.test/";

describe("live egress policy", () => {
  it("allow takes effect on the next request, persists across resume, and is logged", async () => {
    const box = dockerSandbox(shellManifest());
    const identity = await startDetached(box);
    let upstream = await startUpstream(`bot-bottle-${identity}-net`, [
      "other.test",
      "allowed.test",
    ]);
    try {
      assert.equal((await bottleExec(box, identity, status)).stdout, "403");
      const allow = await cliProcess(
        ["policy", "allow", identity, "other.test", "--internal"],
        box,
      );
      assert.equal(allow.code, 0, allow.stderr);
      assert.match(allow.stderr, /in force in the running bottle/);
      assert.equal((await bottleExec(box, identity, status)).stdout, "200");

      const list = await cliProcess(["policy", "list", identity, "--json"], box);
      const rules = JSON.parse(list.stdout) as { allow: { host: string; source: string }[] };
      assert.deepEqual(
        rules.allow.map((r) => `${r.host}/${r.source}`),
        ["allowed.test/manifest", "*.allowed.test/manifest", "other.test/operator"],
      );

      const logs = await cliProcess(["logs", identity, "--egress"], box);
      assert.match(logs.stdout, /DENY\s+GET\s+other\.test:80\/\s+403/);
      assert.match(logs.stdout, /ALLOW\s+GET\s+other\.test:80\/\s+200/);

      assert.equal((await cliProcess(["stop", identity], box)).code, 0);
      await upstream.remove();
      assert.equal((await cliProcess(["resume", identity, "--detach"], box)).code, 0);
      upstream = await startUpstream(`bot-bottle-${identity}-net`, ["other.test"]);
      assert.equal(
        (await bottleExec(box, identity, status)).stdout,
        "200",
        "the change survived resume",
      );

      assert.equal((await cliProcess(["policy", "deny", identity, "other.test"], box)).code, 0);
      assert.equal((await bottleExec(box, identity, status)).stdout, "403");
    } finally {
      await upstream.remove();
      await cliProcess(["stop", identity], box);
    }
  });

  it("refuses an invalid host with exit code 2 and changes nothing", async () => {
    const box = dockerSandbox(shellManifest());
    const identity = await startDetached(box);
    try {
      const result = await cliProcess(["policy", "allow", identity, "*.com"], box);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /top-level domain/);
      const list = await cliProcess(["policy", "list", identity], box);
      assert.doesNotMatch(list.stdout, /\*\.com/);
    } finally {
      await cliProcess(["stop", identity], box);
    }
  });
});
