/**
 * The content a push adds, and its scan for secrets. For every new commit (reachable from the
 * pushed tips and from no ref of the mirror): the commit object whole (author, committer, every
 * header line such as mergetag or gpgsig, the message), and for every file it changes against
 * its first parent (a root commit: its whole tree), the file's path and the lines of its new
 * version that its old version does not have (a new file: all of it). That is what goes upstream
 * and was not there. Tips that are not commits (annotated tags, blobs) are scanned whole too
 * (tip-objects.ts).
 *
 * Lines the old version does not have, rather than a diff's `+` lines: every line of a pushed
 * version is then either scanned or in the version before it, which is the mirror's (already
 * upstream) or another pushed one (scanned in its turn). No diff is computed: git lists the
 * changes (`git log --raw`, raw-log.ts) and hands out the objects (`git cat-file --batch`,
 * cat-file-batch.ts), both streamed into the scan as they come.
 *
 * Binary files are read as bytes (latin1), renames as whole new files. A file under gzip or
 * base32 is also scanned decoded (blob-decoding.ts; a gzip bomb refuses the push). A gitlink's id
 * is data too: scanned as hex and as the bytes it spells. What is split across files is found in
 * one joined stream (in both orders): each file's added text (its start and end when long) and every gitlink's
 * bytes, end to end. No diff or text conversion driver of the repository runs.
 *
 * The scans run while git goes on reading (the scanner is another thread), up to MAX_SCANNING
 * characters ahead of them.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import type { ContentFinding } from "../shared/content-inspector.js";
import { decodedLayers } from "./blob-decoding.js";
import type { BatchObject } from "./cat-file-batch.js";
import { CatFileBatchReader } from "./cat-file-batch.js";
import type { GitEnv } from "./git-process.js";
import type { RawChange, RawLogRecord } from "./raw-log.js";
import { RawLogReader } from "./raw-log.js";
import { scanTipObjects } from "./tip-objects.js";

/** Scans one text: the DLP inspector's scanText, in a worker thread (BackgroundScanner). */
export type ContentScanner = (text: string, where: string) => Promise<ContentFinding[]>;

/** Text handed to the scanner and not yet scanned, past which git's output waits. */
const MAX_SCANNING = 8 * 1024 * 1024;

const GITLINK = "160000";
const isZero = (oid: string): boolean => /^0+$/.test(oid);

/**
 * What of a changed file is new, PURE: all of it, the lines it gained, a gitlink's id (data too:
 * 40 hex digits can be anything), or nothing.
 */
export function changeContent(change: RawChange): "added" | "modified" | "gitlink" | null {
  if (isZero(change.newOid)) return null;
  if (change.newMode === GITLINK) return change.oldOid === change.newOid ? null : "gitlink";
  if (change.oldMode === GITLINK || isZero(change.oldOid)) return "added";
  return change.oldOid === change.newOid ? null : "modified";
}

/**
 * The lines of `after` that `before` does not have, in order, PURE. The lines both start and end
 * with are set aside first (most of a changed file): only the rest is looked up, and a line there
 * that `before` has only in the part set aside counts as added (more is scanned, never less).
 */
export function addedLines(before: string, after: string): string {
  const old = before.split("\n");
  const now = after.split("\n");
  let start = 0;
  while (start < old.length && start < now.length && old[start] === now[start]) start += 1;
  let end = 0;
  while (
    end < old.length - start &&
    end < now.length - start &&
    old[old.length - 1 - end] === now[now.length - 1 - end]
  ) {
    end += 1;
  }
  const had = new Set(old.slice(start, old.length - end));
  return now
    .slice(start, now.length - end)
    .filter((line) => !had.has(line))
    .join("\n");
}

const LOG_ARGUMENTS = [
  "log",
  "-z",
  "--raw",
  "--no-abbrev",
  "--no-renames",
  "--root",
  "--no-color",
  "--diff-merges=first-parent",
  "--format=tformat:%x01%H%n%B",
];

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once("close", (code) => {
      resolve(code ?? 1);
    });
    child.once("error", () => {
      resolve(127);
    });
  });
}

/** An object asked of cat-file, waiting for it (in the order asked): a file's blobs, or a commit. */
type Wanted =
  | {
      kind: "file";
      path: string;
      content: "added" | "modified";
      /** The old version of a modified file, once it came. */
      before?: string;
    }
  | { kind: "commit"; oid: string };

/** Of each file's added text, the start and the end go into the joined stream. */
const JOINED_EDGE = 512;

/**
 * Scans what the commits reachable from `tips` and from no ref of the mirror add; stops at the
 * first finding. `env` sees the quarantine (the pushed objects) and the mirror's refs. Throws
 * when git cannot show it all: the caller refuses the push.
 */
export async function scanAddedContent(
  env: GitEnv,
  tips: readonly string[],
  scan: ContentScanner,
): Promise<ContentFinding | null> {
  if (tips.length === 0) return null;
  const tagged = await scanTipObjects(env, tips, scan);
  if (tagged !== null) return tagged;
  const log = spawn("git", [...LOG_ARGUMENTS, ...tips, "--not", "--all"], {
    env,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const blobs = spawn("git", ["cat-file", "--batch", "--buffer"], {
    env,
    stdio: ["pipe", "pipe", "ignore"],
  });
  blobs.stdin.on("error", () => undefined);
  // A holder, not variables: the callbacks set it.
  const state: { found: ContentFinding | null; failure: string | null } = {
    found: null,
    failure: null,
  };
  const done = (): boolean => state.found !== null || state.failure !== null;
  const stop = (): void => {
    log.kill();
    blobs.kill();
  };
  /** Scans asked and not answered, and their characters. */
  const scanning = { scans: new Set<Promise<void>>(), chars: 0 };
  const check = (text: string, where: string): void => {
    scanning.chars += text.length;
    if (scanning.chars > MAX_SCANNING) blobs.stdout.pause();
    const scanned = scan(text, where).then(
      (findings) => {
        scanning.chars -= text.length;
        if (scanning.chars <= MAX_SCANNING) blobs.stdout.resume();
        if (done()) return;
        state.found = findings[0] ?? null;
        if (state.found !== null) stop();
      },
      (error: unknown) => {
        state.failure ??= `the scan failed: ${error instanceof Error ? error.message : String(error)}`;
        stop();
      },
    );
    scanning.scans.add(scanned);
    void scanned.then(() => scanning.scans.delete(scanned));
  };
  const guarded =
    <T>(handle: (value: T) => void) =>
    (value: T): void => {
      if (done()) return;
      try {
        handle(value);
      } catch (error) {
        state.failure = error instanceof Error ? error.message : String(error);
        stop();
      }
    };

  /** Asked of cat-file, in order; `next` is the one its next answer is for. */
  const wanted: Wanted[] = [];
  let next = 0;
  /**
   * The push's added content as one stream, to find what is split across files: each file's
   * added text whole when short, else its start and end; and every gitlink's bytes.
   */
  const joined: string[] = [];
  let gitlinks = "";
  const onRecord = (record: RawLogRecord): void => {
    if (record.kind === "commit") {
      // The whole object: author, committer, every header line (mergetag, gpgsig, any) and the
      // message.
      wanted.push({ kind: "commit", oid: record.oid });
      blobs.stdin.write(`${record.oid}\n`);
      return;
    }
    const content = changeContent(record);
    if (content === null) return;
    if (content === "gitlink") {
      const bytes = Buffer.from(record.newOid, "hex").toString("latin1");
      gitlinks += bytes;
      check(`${record.path}\n${record.newOid}\n${bytes}`, `path ${record.path}`);
      return;
    }
    wanted.push({ kind: "file", path: record.path, content });
    blobs.stdin.write(
      content === "added" ? `${record.newOid}\n` : `${record.oldOid}\n${record.newOid}\n`,
    );
  };
  const onObject = (oid: string, object: BatchObject | null): void => {
    const file = wanted[next];
    if (file === undefined) throw new Error(`cat-file answered ${oid}, which was not asked`);
    if (object === null) throw new Error(`object ${oid} is missing`);
    if (file.kind === "commit") {
      next += 1;
      check(object.data.toString("latin1"), `commit ${file.oid}`);
      return;
    }
    const text = object.data.toString("latin1");
    if (file.content === "modified" && file.before === undefined) {
      file.before = text;
      return;
    }
    next += 1;
    // The path is content too: a name can carry data.
    const added = file.before === undefined ? text : addedLines(file.before, text);
    delete file.before;
    check(`${file.path}\n${added}`, `path ${file.path}`);
    // Layers the scanner would not open (gzip, base32), decoded: the new version whole.
    for (const layer of decodedLayers(object.data)) check(layer, `path ${file.path}`);
    joined.push(
      added.length <= 2 * JOINED_EDGE
        ? added
        : `${added.slice(0, JOINED_EDGE)}\n${added.slice(-JOINED_EDGE)}`,
    );
  };

  const records = new RawLogReader(onRecord);
  const objects = new CatFileBatchReader(onObject);
  log.stdout.setEncoding("utf8");
  log.stdout.on(
    "data",
    guarded((data: string) => {
      records.write(data);
    }),
  );
  log.stdout.once(
    "end",
    guarded(() => {
      records.end();
      blobs.stdin.end();
    }),
  );
  blobs.stdout.on(
    "data",
    guarded((data: Buffer) => {
      objects.write(data);
    }),
  );
  blobs.stdout.once(
    "end",
    guarded(() => {
      objects.end();
    }),
  );
  const [logCode, blobsCode] = await Promise.all([exitOf(log), exitOf(blobs)]);
  if (!done() && (joined.length > 1 || gitlinks !== "")) {
    // Joined as they are and trimmed: two halves, each a file of its own, meet again.
    // In both orders: git lists files by path, which the agent chooses.
    const parts = joined.map((part) => part.trim());
    check(parts.join("") + gitlinks, "the push's files joined");
    if (parts.length > 1) check([...parts].reverse().join(""), "the push's files joined");
  }
  await Promise.all(scanning.scans);
  if (state.found !== null) return state.found;
  // Fail closed: content git could not show is content nobody checked.
  if (state.failure !== null) throw new Error(state.failure);
  if (logCode !== 0) throw new Error(`git log failed (exit ${logCode})`);
  if (blobsCode !== 0) throw new Error(`git cat-file failed (exit ${blobsCode})`);
  if (next < wanted.length) throw new Error("git cat-file did not hand out every changed file");
  return null;
}
