// The secret keeper ends when the start that spawned it is gone: it is spawned beside the launch,
// so a start killed half-way must not leave a process holding the bottle's secrets.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { KEEPER_POLL_MS, SecretKeeper } from "../../src/backend/docker/secret-keeper.js";

const SECRETS = { credentials: { api: "fake-token-for-keeper-test" }, git: {} };

function keeperFor(metadata: object): { ended: Promise<boolean>; keeper: SecretKeeper } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-keeper-"));
  const metadataFile = path.join(dir, "metadata.json");
  fs.writeFileSync(metadataFile, JSON.stringify(metadata));
  let keeper: SecretKeeper | undefined;
  const ended = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
      keeper?.stop();
    }, KEEPER_POLL_MS * 4);
    keeper = new SecretKeeper(
      { controlSocket: path.join(dir, "none.sock"), metadataFile },
      SECRETS,
      () => undefined,
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
  if (keeper === undefined) throw new Error("no keeper");
  keeper.start(true);
  return { ended, keeper };
}

describe("secret keeper", () => {
  it("ends when the process starting the bottle is gone", async () => {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    const { ended } = keeperFor({ status: "starting", starter_pid: gone });
    assert.equal(await ended, true);
  });

  it("keeps watching while the starting process lives", async () => {
    const { ended } = keeperFor({ status: "starting", starter_pid: process.pid });
    // Still watching at the deadline (the test's timer then stops it).
    assert.equal(await ended, false);
  });
});
