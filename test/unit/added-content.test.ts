// What a push adds, read from a real repository with real git and scanned in the worker thread:
// new files whole, only the lines a changed file gains, messages, paths; a harmless gitlink; an
// object git cannot hand out, or a scanner that stopped, fails the scan. All tokens are fake.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { BackgroundScanner } from "../../src/sidecar/dlp/background-scanner.js";
import { scanAddedContent } from "../../src/sidecar/git/added-content.js";
import type { GitEnv } from "../../src/sidecar/git/git-process.js";
import { baseGitEnv } from "../../src/sidecar/git/git-process.js";

const TOKEN = "ghp_FAKEfakeFAKEfake0123456789abcdefAB";

describe("added content", () => {
  let tmp: string;
  let env: GitEnv;
  let scanner: BackgroundScanner;
  const git = (args: string[], input?: string): string =>
    execFileSync("git", args, { env, input, encoding: "utf8" }).trim();
  const blob = (text: string): string => git(["hash-object", "-w", "--stdin"], text);
  /** A commit of `files` (path to blob id, or [mode, id]) on `parent`, on no ref. */
  const commit = (
    files: Record<string, string | [string, string]>,
    parent?: string,
    message = "change",
  ): string => {
    const lines = Object.entries(files).map(([name, value]) => {
      const [mode, oid] = typeof value === "string" ? ["100644", value] : value;
      return `${mode} ${mode === "160000" ? "commit" : "blob"} ${oid}\t${name}\n`;
    });
    const tree = git(["mktree", "--missing"], lines.join(""));
    return git([
      "commit-tree",
      tree,
      ...(parent === undefined ? [] : ["-p", parent]),
      "-m",
      message,
    ]);
  };
  const scan = (tip: string) =>
    scanAddedContent(env, [tip], (text, where) => scanner.scan(text, where));

  let base: string;
  let oldFile: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-added-"));
    env = baseGitEnv({
      GIT_DIR: path.join(tmp, "repo.git"),
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.test",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.test",
    });
    git(["init", "--quiet", "--bare", path.join(tmp, "repo.git")]);
    // Upstream already has a file holding a token: it is not this push's to answer for.
    oldFile = `one\nTOKEN=${TOKEN}\nthree\n`;
    base = commit({ "fixtures.env": blob(oldFile) });
    git(["update-ref", "refs/heads/main", base]);
    scanner = new BackgroundScanner({ ownSecrets: [] });
  });
  after(async () => {
    await scanner.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("lets a changed file keep a line the upstream already had", async () => {
    const tip = commit({ "fixtures.env": blob(`zero\n${oldFile}four\n`) }, base);
    assert.equal(await scan(tip), null);
  });

  it("finds a token in a line a changed file gains, in a new file, a path and a message", async () => {
    const gained = commit(
      { "fixtures.env": blob(`${oldFile}NEW=${TOKEN.replace("A", "B")}\n`) },
      base,
    );
    assert.deepEqual(await scan(gained), { kind: "github-token", where: "path fixtures.env" });
    const added = commit(
      { "fixtures.env": blob(oldFile), "new.ts": blob(`const t = "${TOKEN}";\n`) },
      base,
    );
    assert.deepEqual(await scan(added), { kind: "github-token", where: "path new.ts" });
    const named = commit(
      { "fixtures.env": blob(oldFile), [`notes-${TOKEN}.txt`]: blob("x\n") },
      base,
    );
    assert.equal((await scan(named))?.kind, "github-token");
    const told = commit({ "fixtures.env": blob(oldFile) }, base, `see ${TOKEN}`);
    assert.deepEqual(await scan(told), { kind: "github-token", where: `commit ${told}` });
    // Two commits deep: the first adds the token, the second only keeps it.
    const first = commit({ "fixtures.env": blob(oldFile), "b.txt": blob(`${TOKEN}\n`) }, base);
    const second = commit(
      { "fixtures.env": blob(oldFile), "b.txt": blob(`${TOKEN}\nmore\n`) },
      first,
    );
    assert.deepEqual(await scan(second), { kind: "github-token", where: "path b.txt" });
  });

  it("passes a harmless submodule entry, and fails when git cannot hand out a blob", async () => {
    const gitlink = commit(
      { "fixtures.env": blob(oldFile), vendor: ["160000", "e".repeat(40)] },
      base,
    );
    assert.equal(await scan(gitlink), null);
    const missing = commit({ "fixtures.env": blob(oldFile), "gone.txt": "f".repeat(40) }, base);
    await assert.rejects(scan(missing), /missing/);
  });

  it("fails when the scanner has stopped: nothing goes unchecked", async () => {
    const stopped = new BackgroundScanner({ ownSecrets: [] });
    await stopped.close();
    const tip = commit({ "fixtures.env": blob(oldFile), "c.txt": blob("harmless\n") }, base);
    await assert.rejects(
      scanAddedContent(env, [tip], (text, where) => stopped.scan(text, where)),
      /scanner was closed/,
    );
  });
});
