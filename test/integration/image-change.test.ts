/**
 * Image changes on real bottles: the agent asks for a package, the operator approves with
 * --restart, the bottle comes back on its new image with the same identity, workspace and state;
 * another bottle of the same agent is untouched; a change that fails to build leaves the bottle
 * running on its old image and tells the agent why; a change stored without a restart is built at
 * the next resume; no recipe weakens the run's hardening (invariant 5).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { agentImageOf, withLayer } from "../../src/core/image/bottle-recipe.js";
import { readRecipe } from "../../src/core/image/recipe-store.js";
import { readRequest, requestsDir } from "../../src/core/requests/request-store.js";
import type { Sandbox } from "../helpers/cli.js";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  shellManifest,
  startDetached,
} from "../helpers/docker.js";
import { mcpCall } from "../helpers/mcp-curl.js";
import { askForImageChange } from "../helpers/supervise-mcp.js";

const JQ = "RUN apt-get update && apt-get install -y --no-install-recommends jq";
/** A recipe that tries: a setuid root shell, USER root then back, PATH and proxy variables. */
const HOSTILE = [
  "RUN cp /bin/bash /usr/local/bin/rootbash && chmod u+s /usr/local/bin/rootbash",
  "USER root",
  "ENV PATH=/opt/evil:$PATH HTTPS_PROXY=http://10.0.0.1:8080 https_proxy=http://10.0.0.1:8080",
  "RUN mkdir -p /opt/evil",
  "USER agent",
].join("\n");

function stateDir(box: Sandbox, identity: string): string {
  return path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
}

async function agentId(identity: string): Promise<string> {
  return (await docker.getContainer(`bot-bottle-${identity}-agent`).inspect()).Id;
}

function decisionOf(box: Sandbox, identity: string, id: string) {
  return readRequest(requestsDir(stateDir(box, identity)), id)?.decision;
}

describe("image changes", { timeout: 1_800_000 }, () => {
  let box: Sandbox;
  let identity = "";
  let other = "";

  /** The layered images this test builds (removed before and after, so every run builds them). */
  let ownImages: string[] = [];

  async function removeOwnImages(): Promise<void> {
    for (const tag of ownImages)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  }

  before(async () => {
    box = dockerSandbox(shellManifest());
    identity = await startDetached(box);
    other = await startDetached(box);
    const base = readRecipe(stateDir(box, identity));
    assert.ok(base !== undefined);
    const layer = (dockerfile: string) => ({
      request_id: "r-000000",
      dockerfile,
      approved_at: new Date().toISOString(),
    });
    const withJq = withLayer(base, layer(JQ));
    ownImages = [agentImageOf(withJq).tag, agentImageOf(withLayer(withJq, layer(HOSTILE))).tag];
    await removeOwnImages();
  });

  after(async () => {
    for (const id of [identity, other]) if (id !== "") await cliProcess(["stop", id], box);
    await removeOwnImages();
  });

  it("asks, is approved with --restart, comes back on the new image with identity and workspace", async () => {
    assert.equal((await bottleExec(box, identity, "echo before > /workspace/kept.txt")).code, 0);
    assert.notEqual((await bottleExec(box, identity, "command -v jq")).code, 0);
    const otherBefore = await agentId(other);

    const recipe0 = await mcpCall(box, identity, "current_image_recipe", {});
    assert.equal(recipe0.isError, false, recipe0.text);
    assert.match(String(recipe0.value["dockerfile"]), /^FROM bot-bottle\/agent-shell:/m);
    const refused = await mcpCall(box, identity, "request_image_change", {
      dockerfile: "FROM debian\nUSER root",
      reason: "try",
    });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /FROM is refused/);
    assert.match(refused.text, /USER root may not be left as the final user/);

    const asked = await askForImageChange(box, identity, JQ, "I need jq to read JSON");
    const shown = await cliProcess(["requests", asked.request_id], box);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      /^ {2}\+RUN apt-get update && apt-get install -y --no-install-recommends jq$/m,
    );
    assert.match(shown.stdout, /^\s*--- current recipe$/m);
    assert.match(shown.stdout, /Risk flags:\n\s+\(none found\)/);

    const approve = await cliProcess(
      ["approve", asked.request_id, "--yes", "--restart"],
      box,
      {},
      900_000,
    );
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stderr, /Step \d+\/\d+ : RUN apt-get update/);
    assert.match(approve.stderr, /restarted on its new image/);

    const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
    assert.match(info.Config.Image, /^bot-bottle\/agent-layered:/);
    assert.equal((await bottleExec(box, identity, "cat /workspace/kept.txt")).stdout, "before\n");
    const jq = await bottleExec(box, identity, "jq --version && echo '{\"a\":7}' | jq .a");
    assert.equal(jq.code, 0, jq.stderr);
    assert.match(jq.stdout, /^jq-1\.\d.*\n7\n$/);
    // The agent, continuing on the new image, asks again and is told.
    const told = await mcpCall(box, identity, "wait_for_decision", {
      request_id: asked.request_id,
      timeout_s: 1,
    });
    assert.equal(told.value["status"], "approved", told.text);
    assert.match(String(told.value["note"]), /restarted on the new image/);
    const recipe = fs.readFileSync(
      path.join(stateDir(box, identity), "image", "Dockerfile"),
      "utf8",
    );
    assert.match(recipe, /^RUN apt-get update && apt-get install -y --no-install-recommends jq$/m);

    // The other bottle of the same agent: same container, old image, no jq (until it asks).
    assert.equal(await agentId(other), otherBefore);
    assert.notEqual((await bottleExec(box, other, "command -v jq")).code, 0);

    // The same recipe asked by the other bottle: approved, it builds nothing (content hash).
    const again = await askForImageChange(box, other, JQ, "me too");
    const second = await cliProcess(
      ["approve", again.request_id, "--yes", "--restart"],
      box,
      {},
      600_000,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /is already built \(same recipe\)/);
    assert.doesNotMatch(second.stderr, /Step \d+\/\d+/);
    assert.equal((await bottleExec(box, other, "jq --version")).code, 0);

    const list = await cliProcess(["list", "--json"], box);
    const rows = JSON.parse(list.stdout) as {
      identity: string;
      status: string;
      rebuild_pending: boolean;
    }[];
    assert.deepEqual(
      rows
        .filter((r) => [identity, other].includes(r.identity))
        .map((r) => [r.status, r.rebuild_pending]),
      [
        ["running", false],
        ["running", false],
      ],
    );
  });

  it("a change that fails to build leaves the bottle running on its old image, and tells the agent why", async () => {
    const before = await agentId(identity);
    const asked = await askForImageChange(
      box,
      identity,
      "RUN echo building-the-broken-change && exit 3",
      "this one is broken",
    );
    const approve = await cliProcess(
      ["approve", asked.request_id, "--yes", "--restart"],
      box,
      {},
      600_000,
    );
    assert.equal(approve.code, 1, approve.stderr);
    assert.match(approve.stderr, /keeps running on its old image/);
    assert.match(approve.stderr, /returned a non-zero code: 3/);
    assert.equal(await agentId(identity), before);
    assert.equal((await bottleExec(box, identity, "jq --version")).code, 0);
    const told = await mcpCall(box, identity, "wait_for_decision", {
      request_id: asked.request_id,
      timeout_s: 1,
    });
    assert.equal(told.value["status"], "denied", told.text);
    assert.match(String(told.value["note"]), /^build failed: [\s\S]*returned a non-zero code: 3/);
    const decision = decisionOf(box, identity, asked.request_id);
    assert.equal(decision?.status, "denied");
    const recipe = fs.readFileSync(
      path.join(stateDir(box, identity), "image", "Dockerfile"),
      "utf8",
    );
    assert.doesNotMatch(recipe, /broken-change/);
  });

  it("stored without a restart, a change waits (bottle list says so) and the next resume builds it; it cannot weaken the hardening", async () => {
    const asked = await askForImageChange(box, identity, HOSTILE, "hardening probe");
    const shown = await cliProcess(["requests", asked.request_id], box);
    for (const flag of ["setuid", "user-change", "proxy-or-ca-env", "path-change"])
      assert.match(shown.stdout, new RegExp(`! ${flag}: `), flag);
    const approve = await cliProcess(["approve", asked.request_id, "--yes"], box);
    assert.equal(approve.code, 0, approve.stderr);
    assert.match(approve.stderr, /next restart or resume/);
    const list = await cliProcess(["list"], box);
    assert.match(list.stdout, new RegExp(`^${identity}\\s+sh\\s+running, rebuild pending`, "m"));

    assert.equal((await cliProcess(["stop", identity], box)).code, 0);
    const resume = await cliProcess(["resume", identity, "--detach"], box, {}, 900_000);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stderr, /building the bottle's image/);

    const probe = await bottleExec(
      box,
      identity,
      [
        "id -u",
        "grep '^CapEff:' /proc/self/status",
        "/usr/local/bin/rootbash -p -c 'id -u'",
        "echo $HTTPS_PROXY",
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' '; echo",
        "jq --version >/dev/null && echo jq-still-there",
        "cat /workspace/kept.txt",
      ].join("; "),
    );
    assert.equal(probe.code, 0, probe.stderr);
    const [uid, capEff, setuidUid, proxy, interfaces, jq, kept] = probe.stdout.trim().split("\n");
    assert.equal(uid, "1500");
    assert.match(capEff ?? "", /^CapEff:\s+0+$/);
    assert.equal(setuidUid, "1500", "a setuid binary grants nothing under no-new-privileges");
    assert.equal(proxy, "http://127.0.0.1:3128", "the bottle's proxy wins over the image's ENV");
    assert.equal(interfaces?.trim(), "lo");
    assert.equal(jq, "jq-still-there");
    assert.equal(kept, "before");
    const info = await docker.getContainer(`bot-bottle-${identity}-agent`).inspect();
    assert.equal(info.HostConfig.NetworkMode, "none");
    assert.deepEqual(info.HostConfig.CapDrop, ["ALL"]);
    assert.deepEqual(info.HostConfig.SecurityOpt as unknown, ["no-new-privileges:true"]);
    assert.equal(info.Config.User, "1500:1500");
    const after = await cliProcess(["list", "--json"], box);
    const row = (JSON.parse(after.stdout) as { identity: string; rebuild_pending: boolean }[]).find(
      (r) => r.identity === identity,
    );
    assert.equal(row?.rebuild_pending, false);
  });
});
