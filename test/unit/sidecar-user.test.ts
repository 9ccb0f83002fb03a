/** Who the sidecar runs as (issue 12, item 4): never root; a root operator's state handed over. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { SIDECAR_NONROOT_ID } from "../../src/core/contract/sidecar-limits.js";
import { handStateTo, sidecarUserFor, userSpec } from "../../src/backend/docker/sidecar-user.js";

describe("the sidecar's user", () => {
  it("is the operator, or a fixed unprivileged uid when the operator is root", () => {
    assert.deepEqual(sidecarUserFor({ uid: 1000, gid: 1000 }), { uid: 1000, gid: 1000 });
    const forRoot = sidecarUserFor({ uid: 0, gid: 0 });
    assert.notEqual(forRoot.uid, 0);
    assert.equal(userSpec(forRoot), `${SIDECAR_NONROOT_ID}:${SIDECAR_NONROOT_ID}`);
  });

  it(
    "gets a root operator's state folder, CA key included, without following symlinks",
    { skip: process.getuid?.() !== 0 ? "needs root to change owners" : false },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-state-"));
      fs.mkdirSync(path.join(dir, "ca"), { mode: 0o700 });
      fs.writeFileSync(path.join(dir, "ca", "ca.key"), "fake", { mode: 0o600 });
      fs.symlinkSync("/etc/hostname", path.join(dir, "link"));
      const user = sidecarUserFor({ uid: 0, gid: 0 });
      handStateTo(dir, user);
      for (const file of [dir, path.join(dir, "ca"), path.join(dir, "ca", "ca.key")])
        assert.equal(fs.statSync(file).uid, SIDECAR_NONROOT_ID, file);
      assert.equal(fs.lstatSync(path.join(dir, "link")).uid, SIDECAR_NONROOT_ID);
      assert.equal(fs.statSync("/etc/hostname").uid, 0, "the link's target was changed");
      fs.rmSync(dir, { recursive: true });
    },
  );
});
