// Every field of every object a push adds is judged: commit headers (author, committer, extra
// lines), tag objects, gitlink ids, files hidden under gzip or base32, and a secret split across
// two files. Real repositories and git; the scanner in its worker thread. All secrets are fake.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { BackgroundScanner } from "../../src/sidecar/dlp/background-scanner.js";
import { scanAddedContent } from "../../src/sidecar/git/added-content.js";
import { base32Bytes } from "../../src/sidecar/git/blob-decoding.js";
import type { GitEnv } from "../../src/sidecar/git/git-process.js";
import { baseGitEnv } from "../../src/sidecar/git/git-process.js";

const TOKEN = ["ghp", "_FAKEfakeFAKEfake0123456789abcdefAB"].join("");
/** The bottle's own secret: 40 characters, as a key line would be. */
const OWN = ["AAAAC3Nza", "C1lZDI1NTE5FAKEownSECRETforTESTS"].join("").slice(0, 40);

function base32(data: Buffer): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(value >>> bits) & 31] ?? "";
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31] ?? "";
  return out;
}

describe("added content: every field of every object", () => {
  let tmp: string;
  let env: GitEnv;
  let scanner: BackgroundScanner;
  let base: string;
  const git = (args: string[], input?: string | Buffer, extra: GitEnv = {}): string =>
    execFileSync("git", args, { env: { ...env, ...extra }, input, encoding: "utf8" }).trim();
  const blob = (data: string | Buffer): string => git(["hash-object", "-w", "--stdin"], data);
  const tree = (files: Record<string, string | [string, string]>): string =>
    git(
      ["mktree", "--missing"],
      Object.entries(files)
        .map(([name, value]) => {
          const [mode, oid] = typeof value === "string" ? ["100644", value] : value;
          return `${mode} ${mode === "160000" ? "commit" : "blob"} ${oid}\t${name}\n`;
        })
        .join(""),
    );
  const commit = (files: Record<string, string | [string, string]>, extra: GitEnv = {}): string =>
    git(["commit-tree", tree(files), "-p", base, "-m", "change"], undefined, extra);
  const scan = (tip: string) =>
    scanAddedContent(env, [tip], (text, where) => scanner.scan(text, where));

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-fields-"));
    env = baseGitEnv({
      GIT_DIR: path.join(tmp, "repo.git"),
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.test",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.test",
    });
    git(["init", "--quiet", "--bare", path.join(tmp, "repo.git")]);
    base = git(["commit-tree", tree({ README: blob("seed\n") }), "-m", "seed"]);
    git(["update-ref", "refs/heads/main", base]);
    scanner = new BackgroundScanner({ ownSecrets: [OWN] });
  });
  after(async () => {
    await scanner.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("passes an ordinary commit, a gzip file and a gitlink that hold nothing", async () => {
    const tip = commit({
      README: blob("seed\nmore\n"),
      "data.gz": blob(zlib.gzipSync("just some text\n")),
      vendor: ["160000", "e".repeat(40)],
    });
    assert.equal(await scan(tip), null);
  });

  it("finds a secret in the author's name, the committer's e-mail", async () => {
    const author = commit({ "a.txt": blob("a\n") }, { GIT_AUTHOR_NAME: TOKEN });
    assert.equal((await scan(author))?.where, `commit ${author}`);
    const committer = commit({ "b.txt": blob("b\n") }, { GIT_COMMITTER_EMAIL: `${OWN}@x.test` });
    assert.equal((await scan(committer))?.where, `commit ${committer}`);
  });

  it("finds a secret in extra commit header lines (a custom one, a mergetag)", async () => {
    const t = tree({ "c.txt": blob("c\n") });
    for (const header of [
      `x-data ${TOKEN}`,
      `mergetag object ${base}\n type commit\n tag ${OWN}`,
    ]) {
      const raw =
        `tree ${t}\nparent ${base}\nauthor t <t@example.test> 1 +0000\n` +
        `committer t <t@example.test> 1 +0000\n${header}\n\nplain message\n`;
      const oid = git(["hash-object", "-t", "commit", "-w", "--stdin", "--literally"], raw);
      assert.equal((await scan(oid))?.where, `commit ${oid}`, header.split(" ")[0]);
    }
  });

  it("finds a secret in a tag's message and its tagger, even a tag of a tag", async () => {
    const tip = commit({ "d.txt": blob("d\n") });
    const tagged = (target: string, type: string, message: string, tagger = "t <t@x.test>") =>
      git(
        ["hash-object", "-t", "tag", "-w", "--stdin"],
        `object ${target}\ntype ${type}\ntag v1\ntagger ${tagger} 1 +0000\n\n${message}\n`,
      );
    const byMessage = tagged(tip, "commit", `release ${TOKEN}`);
    assert.equal((await scan(byMessage))?.where, `tag ${byMessage}`);
    const byTagger = tagged(tip, "commit", "release", `${OWN} <t@x.test>`);
    assert.equal((await scan(byTagger))?.where, `tag ${byTagger}`);
    const outer = tagged(byMessage, "tag", "outer, harmless");
    assert.equal((await scan(outer))?.where, `tag ${byMessage}`);
    assert.equal(await scan(tagged(tip, "commit", "harmless")), null);
  });

  it("finds the bottle's own secret carried as gitlink ids (its hex), one or split over two", async () => {
    const hex = Buffer.from(OWN).toString("hex");
    const two = commit({
      "a-mod": ["160000", hex.slice(0, 40)],
      "b-mod": ["160000", hex.slice(40, 80)],
    });
    assert.notEqual(await scan(two), null);
    const short = Buffer.from(OWN.slice(0, 20)).toString("hex");
    const scanner20 = new BackgroundScanner({ ownSecrets: [OWN.slice(0, 20)] });
    try {
      const one = commit({ "c-mod": ["160000", short] });
      const found = await scanAddedContent(env, [one], (t, w) => scanner20.scan(t, w));
      assert.equal(found?.where, "path c-mod");
    } finally {
      await scanner20.close();
    }
  });

  it("finds a secret in a gzip file (whatever its name) and a base32 file; refuses a gzip bomb", async () => {
    const gz = commit({ "notes.txt": blob(zlib.gzipSync(`key=${TOKEN}\n`)) });
    assert.equal((await scan(gz))?.where, "path notes.txt");
    const twice = commit({ "x.bin": blob(zlib.gzipSync(zlib.gzipSync(`${OWN}\n`))) });
    assert.equal((await scan(twice))?.where, "path x.bin");
    const b32 = commit({ "data.txt": blob(`${base32(Buffer.from(`token ${TOKEN}`))}\n`) });
    assert.equal((await scan(b32))?.where, "path data.txt");
    const bomb = commit({ "bomb.gz": blob(zlib.gzipSync(Buffer.alloc(40 * 1024 * 1024))) });
    await assert.rejects(scan(bomb), /inflates past/);
  });

  it("finds the bottle's own secret split in halves across two files of one push", async () => {
    const tip = commit({
      "part1.txt": blob(`${OWN.slice(0, 20)}\n`),
      "part2.txt": blob(`${OWN.slice(20)}\n`),
    });
    // The own-secret checks may find a long half alone; either way the push is refused.
    assert.match((await scan(tip))?.where ?? "", /the push's files joined|part1\.txt|part2\.txt/);
    // Halves in the other order of the paths, at the end and the start of longer files.
    const filler = "ordinary text line\n".repeat(100);
    const reversed = commit({
      "a.txt": blob(`${OWN.slice(20)}\n${filler}`),
      "b.txt": blob(`${filler}${OWN.slice(0, 20)}\n`),
    });
    assert.match((await scan(reversed))?.where ?? "", /the push's files joined|a\.txt|b\.txt/);
  });

  it("scans a blob a pushed ref or tag points at; refuses a tree there", async () => {
    const loose = blob(`loose ${TOKEN}\n`);
    assert.equal((await scan(loose))?.where, `blob ${loose}`);
    const pointing = git(
      ["hash-object", "-t", "tag", "-w", "--stdin"],
      `object ${loose}\ntype blob\ntag b\ntagger t <t@x.test> 1 +0000\n\nharmless\n`,
    );
    assert.equal((await scan(pointing))?.where, `blob ${loose}`);
    const gz = blob(zlib.gzipSync(`${OWN}\n`));
    assert.equal((await scan(gz))?.where, `blob ${gz}`);
    await assert.rejects(scan(tree({ "t.txt": blob("t\n") })), /points at a tree/);
  });

  it("decodes base32 only when a text is base32 through and through", () => {
    assert.equal(base32Bytes("MZXW6YTBOJRGC4TCMF5A====\n")?.toString(), "foobarbarbaz");
    assert.equal(
      base32Bytes(base32(Buffer.from("a longer text")).toLowerCase())?.toString(),
      "a longer text",
    );
    assert.equal(base32Bytes("not base32 at all, a sentence"), null);
    assert.equal(base32Bytes("SHORT"), null);
  });
});
