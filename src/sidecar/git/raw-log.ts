/**
 * Reads `git log -z --raw --no-abbrev --format=%x01%H%n%B` as it comes, PURE: each commit (its id
 * and message) and each file it changes (path, modes and blob ids before and after).
 *
 * With -z every field ends with a NUL: a commit is `\x01<id>\n<message>`, a change is
 * `:<old mode> <new mode> <old id> <new id> <status>` and then its path. Anything else is not
 * git's output as asked, and throws: the caller refuses what it cannot read.
 */

export interface RawCommit {
  kind: "commit";
  oid: string;
  message: string;
}

export interface RawChange {
  kind: "change";
  path: string;
  oldMode: string;
  newMode: string;
  oldOid: string;
  newOid: string;
}

export type RawLogRecord = RawCommit | RawChange;

const COMMIT_MARK = "\x01";
const CHANGE = /^:([0-7]{6}) ([0-7]{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) [A-Z][0-9]*$/;

export class RawLogError extends Error {
  override readonly name = "RawLogError";
}

export class RawLogReader {
  /** The start of a field whose NUL has not come yet. */
  private partial = "";
  /** A change read, waiting for its path. */
  private pending: Omit<RawChange, "path"> | null = null;

  constructor(private readonly emit: (record: RawLogRecord) => void) {}

  write(data: string): void {
    const last = data.lastIndexOf("\0");
    if (last === -1) {
      this.partial += data;
      return;
    }
    const fields = (this.partial + data.slice(0, last)).split("\0");
    this.partial = data.slice(last + 1);
    for (const field of fields) this.field(field);
  }

  end(): void {
    if (this.partial !== "" || this.pending !== null) {
      throw new RawLogError("git log's output ended inside a record");
    }
  }

  private field(field: string): void {
    if (this.pending !== null) {
      this.emit({ ...this.pending, path: field });
      this.pending = null;
      return;
    }
    if (field.startsWith(COMMIT_MARK)) {
      const eol = field.indexOf("\n");
      const oid = eol === -1 ? field.slice(1) : field.slice(1, eol);
      this.emit({ kind: "commit", oid, message: eol === -1 ? "" : field.slice(eol + 1) });
      return;
    }
    // The first change of a commit comes after a newline.
    const change = CHANGE.exec(field.startsWith("\n") ? field.slice(1) : field);
    if (change === null) throw new RawLogError("git log printed a record the gate cannot read");
    const [, oldMode = "", newMode = "", oldOid = "", newOid = ""] = change;
    this.pending = { kind: "change", oldMode, newMode, oldOid, newOid };
  }
}
