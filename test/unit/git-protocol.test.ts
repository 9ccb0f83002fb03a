/** The git gate's pure parts: pkt-lines, the push request and report, routes, porcelain, logs. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderGitAuditLine } from "../../src/cli/commands/logs.js";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { knownGitHosts } from "../../src/core/host/host-facts.js";
import type { BottleSpec } from "../../src/core/manifest/schema.js";
import { knownHostsName, pinnedFor, repositoryKey } from "../../src/core/plan/git-remotes.js";
import { addedLines, changeContent } from "../../src/sidecar/git/added-content.js";
import { BatchError, CatFileBatchReader } from "../../src/sidecar/git/cat-file-batch.js";
import type { RawLogRecord } from "../../src/sidecar/git/raw-log.js";
import { RawLogError, RawLogReader } from "../../src/sidecar/git/raw-log.js";
import { routeOf } from "../../src/sidecar/git/gate-routes.js";
import { diffRefs } from "../../src/sidecar/git/git-mirror.js";
import {
  FLUSH,
  PktLineError,
  pktLine,
  readUntilFlush,
  sideBand,
} from "../../src/sidecar/git/pkt-line.js";
import {
  parseUpstreamAdvertisement,
  pushCommands,
  readUpstreamReport,
  receivePackCommand,
  sshDestination,
  unsupportedBy,
} from "../../src/sidecar/git/send-pack-protocol.js";
import { ZERO_ID } from "../../src/sidecar/git/push-policy.js";
import {
  parsePushHead,
  pushReport,
  receivePackAdvertisement,
} from "../../src/sidecar/git/receive-pack.js";
import { parsePorcelain, pushArguments } from "../../src/sidecar/git/upstream-push.js";
import { sshCommand, upstreamEnv } from "../../src/sidecar/git/upstream-env.js";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("pkt-line", () => {
  it("frames payloads and reads them back up to a flush, asking for more when cut", () => {
    const data = Buffer.concat([pktLine("hello\n"), pktLine("x"), FLUSH, Buffer.from("PACK")]);
    assert.equal(data.subarray(0, 10).toString(), "000ahello\n");
    const read = readUntilFlush(data);
    assert.deepEqual(
      read?.lines.map((l) => l.toString()),
      ["hello\n", "x"],
    );
    assert.equal(data.subarray(read.end).toString(), "PACK");
    assert.equal(readUntilFlush(data.subarray(0, 12)), null);
    assert.throws(() => readUntilFlush(Buffer.from("zz01")), PktLineError);
    assert.throws(() => readUntilFlush(Buffer.from("0002")), PktLineError);
  });
});

describe("receive-pack", () => {
  it("advertises the refs with the capabilities on the first, or capabilities^{} when empty", () => {
    const empty = receivePackAdvertisement([]).toString("latin1");
    assert.match(empty, /^001f# service=git-receive-pack\n0000/);
    assert.match(empty, new RegExp(`${ZERO_ID} capabilities\\^\\{\\}\\0report-status `));
    const two = receivePackAdvertisement([
      { oid: A, name: "refs/heads/main" },
      { oid: B, name: "refs/heads/dev" },
    ]).toString("latin1");
    assert.match(two, new RegExp(`${A} refs/heads/main\\0report-status.*side-band-64k`));
    assert.match(two, new RegExp(`[0-9a-f]{4}${B} refs/heads/dev\n0000$`));
  });

  it("reads ref updates, capabilities and push options, then where the pack starts", () => {
    const body = Buffer.concat([
      pktLine(`${ZERO_ID} ${A} refs/heads/bottle/x\0report-status side-band-64k push-options\n`),
      pktLine(`${A} ${ZERO_ID} refs/heads/old\n`),
      FLUSH,
      pktLine("ci.skip\n"),
      FLUSH,
      Buffer.from("PACK...."),
    ]);
    const head = parsePushHead(body);
    assert.deepEqual(head?.commands, [
      { ref: "refs/heads/bottle/x", old: ZERO_ID, new: A },
      { ref: "refs/heads/old", old: A, new: ZERO_ID },
    ]);
    assert.ok(head.capabilities.has("side-band-64k"));
    assert.equal(body.subarray(head.packOffset).toString(), "PACK....");
    assert.equal(parsePushHead(body.subarray(0, 20)), null);
    assert.deepEqual(parsePushHead(FLUSH)?.commands, []);
    assert.throws(() => parsePushHead(Buffer.concat([pktLine("junk\n"), FLUSH])), PktLineError);
    assert.throws(
      () => parsePushHead(Buffer.concat([pktLine(`${A} ${B} HEAD\n`), FLUSH])),
      PktLineError,
    );
  });

  it("reports per ref, with messages on the progress band when side-band is on", () => {
    const refs = [
      { ref: "refs/heads/a", error: null },
      { ref: "refs/heads/b", error: "main is protected\nsecond line" },
    ];
    const plain = pushReport(new Set(), null, refs, ["ignored"]).toString();
    assert.equal(
      plain,
      "000eunpack ok\n0014ok refs/heads/a\n0032ng refs/heads/b main is protected second line\n0000",
    );
    const banded = pushReport(new Set(["side-band-64k"]), null, refs, ["why"]);
    assert.equal(banded.subarray(0, 9).toString("latin1"), "0009\x02why\n");
    assert.ok(banded.toString("latin1").includes(`\x01${plain}`));
    assert.ok(banded.toString("latin1").endsWith("0000"));
  });
});

describe("gate routes", () => {
  it("knows the smart HTTP calls, with or without .git, and nothing else", () => {
    assert.deepEqual(routeOf("GET", "/app.git/info/refs?service=git-upload-pack"), {
      kind: "advertise",
      repo: "app",
      service: "git-upload-pack",
    });
    assert.deepEqual(routeOf("POST", "/app/git-receive-pack"), {
      kind: "rpc",
      repo: "app",
      service: "git-receive-pack",
    });
    assert.equal(routeOf("GET", "/app/info/refs"), null, "dumb HTTP");
    assert.equal(routeOf("GET", "/app/git-upload-pack"), null);
    assert.equal(routeOf("GET", "/team/app/info/refs?service=git-upload-pack"), null);
    assert.equal(routeOf("GET", "/App/info/refs?service=git-upload-pack"), null);
    assert.equal(routeOf("POST", "/app/objects/info/packs"), null);
  });
});

describe("upstream push", () => {
  it("sends rewrites and deletions with a lease on the old id the agent saw", () => {
    assert.deepEqual(
      pushArguments([
        { ref: "refs/heads/a", old: A, new: B, fastForward: true },
        { ref: "refs/heads/b", old: A, new: B, fastForward: false },
        { ref: "refs/heads/c", old: A, new: ZERO_ID, fastForward: true },
        { ref: "refs/heads/d", old: ZERO_ID, new: B, fastForward: true },
      ]),
      [
        `--force-with-lease=refs/heads/a:${A}`,
        `--force-with-lease=refs/heads/b:${A}`,
        `--force-with-lease=refs/heads/c:${A}`,
        "--force-with-lease=refs/heads/d:",
        "--",
        `${B}:refs/heads/a`,
        `+${B}:refs/heads/b`,
        ":refs/heads/c",
        `${B}:refs/heads/d`,
      ],
    );
  });

  it("reads git push --porcelain", () => {
    const out = `To ssh://up/x.git\n*\t${B}:refs/heads/new\t[new branch]\n!\t${B}:refs/heads/x\t[remote rejected] (pre-receive hook declined)\n!\t${B}:refs/heads/y\t[rejected] (fetch first)\nDone\n`;
    const parsed = parsePorcelain(out);
    assert.deepEqual(parsed.get("refs/heads/new"), { ref: "refs/heads/new", error: null });
    assert.equal(parsed.get("refs/heads/x")?.error, "pre-receive hook declined");
    assert.equal(parsed.get("refs/heads/y")?.error, "fetch first");
  });

  it("pins the host keys, the key and nothing else for ssh; the token goes in a header", () => {
    const ssh = sshCommand({ knownHostsFile: "/k/kh", keyFile: "/k/it's" });
    assert.match(ssh, /StrictHostKeyChecking=yes/);
    assert.match(ssh, /-o UserKnownHostsFile='\/k\/kh'/);
    assert.match(ssh, /-i '\/k\/it'\\''s'/);
    assert.match(ssh, /IdentityAgent=none/);
    const env = upstreamEnv({ knownHostsFile: "/k/kh", token: "fake-token" });
    assert.equal(env["GIT_CONFIG_KEY_0"], "http.extraHeader");
    const header = env["GIT_CONFIG_VALUE_0"] ?? "";
    const basic = Buffer.from(header.replace("Authorization: Basic ", ""), "base64").toString();
    assert.equal(basic, "x-access-token:fake-token");
    assert.ok(!Object.values(env).some((v) => v.includes("fake-token")));
  });
});

describe("mirror refs and the git log", () => {
  it("lists what a fetch changed: new, moved and deleted refs", () => {
    const changes = diffRefs(
      [
        { oid: A, name: "refs/heads/main" },
        { oid: A, name: "refs/heads/gone" },
      ],
      [
        { oid: B, name: "refs/heads/main" },
        { oid: A, name: "refs/heads/new" },
      ],
    );
    assert.deepEqual(changes, [
      { ref: "refs/heads/main", old: A, new: B },
      { ref: "refs/heads/new", old: ZERO_ID, new: A },
      { ref: "refs/heads/gone", old: A, new: ZERO_ID },
    ]);
  });

  it("renders a push line: refs with short ids, size, reason", () => {
    const line = JSON.stringify({
      time: "2026-12-01T10:00:01.000Z",
      op: "push",
      repo: "app",
      verdict: "deny",
      reason: "main is protected",
      refs: [{ ref: "refs/heads/main", old: A, new: B }],
      bytes: 1234,
      duration_ms: 41.6,
    });
    assert.equal(
      renderGitAuditLine(line),
      "10:00:01  DENY   push   app  main aaaaaaa..bbbbbbb  1234 bytes  42ms  (main is protected)",
    );
  });
});

describe("repository keys", () => {
  it("reads every spelling of a repository URL as host and path", () => {
    const same = [
      "git@github.com:me/app.git",
      "ssh://git@github.com/me/app",
      "ssh://github.com:22/me/app.git",
      "https://github.com/me/app.git",
      "https://user@GitHub.com/me/app/",
    ];
    for (const url of same) assert.equal(repositoryKey(url), "github.com/me/app", url);
    assert.equal(repositoryKey("ssh://git@github.com:2222/me/app"), "github.com:2222/me/app");
    assert.equal(repositoryKey("/srv/git/app.git"), null);
    assert.equal(repositoryKey("../app"), null);
  });
});

describe("git log -z --raw and cat-file --batch", () => {
  const C = "c".repeat(40);
  const Z = "0".repeat(40);
  /** Feeds `data` whole, and one character at a time: the readers must not care where it is cut. */
  function cuts(data: string): string[][] {
    return [[data], Array.from({ length: data.length }, (_, at) => data.charAt(at))];
  }

  it("reads commits with their messages and the files each changes, however the output is cut", () => {
    const output =
      `\x01${A}\nsubject\n\n:100644 in the body is message\n\0` +
      `\n:000000 100644 ${Z} ${B} A\0src/new file.ts\0` +
      `:100644 100644 ${B} ${C} M\0\x01odd:name\0` +
      `\x01${C}\nempty\n\0`;
    for (const pieces of cuts(output)) {
      const records: RawLogRecord[] = [];
      const reader = new RawLogReader((record) => records.push(record));
      for (const piece of pieces) reader.write(piece);
      reader.end();
      assert.deepEqual(records, [
        { kind: "commit", oid: A, message: "subject\n\n:100644 in the body is message\n" },
        {
          kind: "change",
          oldMode: "000000",
          newMode: "100644",
          oldOid: Z,
          newOid: B,
          path: "src/new file.ts",
        },
        {
          kind: "change",
          oldMode: "100644",
          newMode: "100644",
          oldOid: B,
          newOid: C,
          path: "\x01odd:name",
        },
        { kind: "commit", oid: C, message: "empty\n" },
      ]);
    }
    const reader = new RawLogReader(() => undefined);
    assert.throws(() => {
      reader.write("garbage\0");
    }, RawLogError);
    const cut = new RawLogReader(() => undefined);
    cut.write(`:100644 100644 ${B} ${C} M\0`);
    assert.throws(() => {
      cut.end();
    }, RawLogError);
  });

  it("reads cat-file's answers in order, missing ones as null, however the output is cut", () => {
    const output = `${A} blob 6\nhello\n\n${B} missing\n${C} blob 0\n\n`;
    for (const pieces of cuts(output)) {
      const answers: [string, string | null][] = [];
      const reader = new CatFileBatchReader((oid, object) =>
        answers.push([oid, object === null ? null : `${object.type}:${object.data.toString()}`]),
      );
      for (const piece of pieces) reader.write(Buffer.from(piece, "latin1"));
      reader.end();
      assert.deepEqual(answers, [
        [A, "blob:hello\n"],
        [B, null],
        [C, "blob:"],
      ]);
    }
    assert.throws(() => {
      new CatFileBatchReader(() => undefined).write(Buffer.from("not a header\n"));
    }, BatchError);
    const cut = new CatFileBatchReader(() => undefined);
    cut.write(Buffer.from(`${A} blob 10\nabc`));
    assert.throws(() => {
      cut.end();
    }, BatchError);
  });

  it("counts as added a new file whole, the lines a changed file gains, a new gitlink id, and nothing else", () => {
    const change = (oldMode: string, newMode: string, oldOid: string, newOid: string) =>
      changeContent({ kind: "change", path: "f", oldMode, newMode, oldOid, newOid });
    assert.equal(change("000000", "100644", Z, B), "added");
    assert.equal(change("160000", "100644", A, B), "added");
    assert.equal(change("100644", "100644", A, B), "modified");
    assert.equal(change("100644", "100755", A, A), null);
    assert.equal(change("100644", "000000", A, Z), null);
    // A gitlink's id is data: a new or changed one is scanned, an unchanged one is not.
    assert.equal(change("000000", "160000", Z, A), "gitlink");
    assert.equal(change("160000", "160000", A, B), "gitlink");
    assert.equal(change("160000", "160000", A, A), null);
    assert.equal(addedLines("a\nb\nc\n", "a\nnew one\nc\nb\nnew two\r\n"), "new one\nnew two\r");
  });
});

describe("send-pack to an SSH upstream", () => {
  it("reads where ssh connects and what it runs, as git does", () => {
    assert.deepEqual(sshDestination("git@github.com:me/app.git"), {
      host: "git@github.com",
      port: null,
      path: "me/app.git",
    });
    assert.deepEqual(sshDestination("ssh://git@host.test:2222/srv/app.git"), {
      host: "git@host.test",
      port: "2222",
      path: "/srv/app.git",
    });
    assert.deepEqual(sshDestination("ssh://[::1]:22/~me/app"), {
      host: "::1",
      port: "22",
      path: "~me/app",
    });
    assert.equal(sshDestination("https://github.com/me/app.git"), null);
    assert.equal(sshDestination("/srv/app.git"), null);
    assert.equal(receivePackCommand("/srv/it's.git"), "git-receive-pack '/srv/it'\\''s.git'");
  });

  it("reads the advertisement, asks only for what is offered, and reads the report", () => {
    const caps = "report-status delete-refs side-band-64k quiet ofs-delta agent=git/2";
    const empty = Buffer.concat([pktLine(`${ZERO_ID} capabilities^{}\0${caps}\n`), FLUSH]);
    const advertisement = parseUpstreamAdvertisement(empty);
    assert.ok(advertisement !== null);
    assert.equal(advertisement.refs.size, 0);
    assert.equal(parseUpstreamAdvertisement(empty.subarray(0, 10)), null);
    const refs = Buffer.concat([
      pktLine(`${A} refs/heads/main\0report-status\n`),
      pktLine(`${B} refs/heads/x\n`),
      FLUSH,
    ]);
    const plain = parseUpstreamAdvertisement(refs);
    assert.deepEqual(
      [...(plain?.refs ?? [])],
      [
        ["refs/heads/main", A],
        ["refs/heads/x", B],
      ],
    );

    const updates = [
      { ref: "refs/heads/a", old: A, new: B, fastForward: true },
      { ref: "refs/heads/gone", old: B, new: ZERO_ID, fastForward: true },
    ];
    assert.equal(unsupportedBy(advertisement, updates), null);
    assert.ok(plain !== null);
    assert.equal(unsupportedBy(plain, updates), "no ofs-delta");
    const sent = readUntilFlush(pushCommands(updates, advertisement));
    assert.deepEqual(
      sent?.lines.map((l) => l.toString()),
      [
        `${A} ${B} refs/heads/a\0report-status side-band-64k quiet delete-refs ofs-delta agent=bot-bottle-git-gate\n`,
        `${B} ${ZERO_ID} refs/heads/gone\n`,
      ],
    );

    const status = Buffer.concat([
      pktLine("unpack ok\n"),
      pktLine("ok refs/heads/a\n"),
      pktLine("ng refs/heads/gone pre-receive hook declined\n"),
      FLUSH,
    ]);
    const banded = Buffer.concat([
      sideBand(2, Buffer.from("policy: no\n")),
      sideBand(1, status),
      FLUSH,
    ]);
    const expected = {
      unpack: "ok",
      refs: [
        { ref: "refs/heads/a", error: null },
        { ref: "refs/heads/gone", error: "pre-receive hook declined" },
      ],
      fatal: null,
    };
    assert.deepEqual(readUpstreamReport(banded, true), { ...expected, messages: ["policy: no"] });
    assert.deepEqual(readUpstreamReport(status, false), { ...expected, messages: [] });
    assert.equal(readUpstreamReport(Buffer.alloc(0), false).unpack, "no report from the upstream");
  });
});

describe("known host names", () => {
  it("names SSH upstream hosts as known_hosts does, and reads hashed known_hosts files", () => {
    assert.equal(knownHostsName("git@github.com:me/app.git"), "github.com");
    assert.equal(knownHostsName("ssh://git@git.example.test/x"), "git.example.test");
    assert.equal(knownHostsName("ssh://git@git.example.test:2222/x"), "[git.example.test]:2222");
    assert.equal(knownHostsName("https://github.com/me/app.git"), null);
    assert.ok(pinnedFor(["a.test,b.test ssh-ed25519 AAAA"], "b.test"));
    assert.ok(!pinnedFor(["a.test ssh-ed25519 AAAA"], "b.test"));

    const home = fs.mkdtempSync(path.join(os.tmpdir(), "bb-known-"));
    const file = path.join(home, "known_hosts");
    fs.writeFileSync(
      file,
      "git.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOf8y0m0kdMGXOk2NKcd\n",
    );
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    assert.ok(!fs.readFileSync(file, "utf8").includes("git.example.test"), "hashed");
    const bottle = (upstream: string) =>
      ({ git: [{ name: "app", upstream, known_hosts: file }] }) as unknown as BottleSpec;
    const known = knownGitHosts(
      { home, env: {}, cwd: home },
      bottle("git@git.example.test:me/app"),
      home,
    );
    assert.deepEqual([...known], ["git.example.test"]);
    const other = knownGitHosts(
      { home, env: {}, cwd: home },
      bottle("git@other.test:me/app"),
      home,
    );
    assert.equal(other.size, 0);
    fs.rmSync(home, { recursive: true, force: true });
  });
});
