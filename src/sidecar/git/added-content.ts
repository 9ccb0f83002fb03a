/**
 * The content a push adds, as git shows it: for every new commit, its message and the lines its
 * diff adds against its first parent (a root commit adds its whole tree; a merge, what it brings
 * to the first parent's line), per file, with the file's path. Binary files are read as text,
 * renames as whole new files, and no diff or text conversion driver of the repository runs.
 * That is the content that goes upstream and was not there: what the gate scans for secrets.
 *
 * The parsing of `git log -p` is PURE (AddedContentReader); `scanAddedContent` runs git.
 */
import { spawn } from "node:child_process";
import readline from "node:readline";
import type { ContentFinding } from "../egress/content-inspector.js";
import type { GitEnv } from "./git-process.js";

/** Scans one text; the DLP inspector's scanText. */
export type ContentScanner = (text: string, where: string) => ContentFinding[];

const COMMIT_MARK = "\x01";

export interface AddedChunk {
  /** `commit <oid>` for a message, `path <path>` for the lines added to a file. */
  where: string;
  text: string;
}

/** Reads `git log -p` output line by line into chunks of added content. */
export class AddedContentReader {
  private chunk: string[] = [];
  private where = "";
  private inHunk = false;

  constructor(private readonly emit: (chunk: AddedChunk) => void) {}

  line(line: string): void {
    if (line.startsWith(COMMIT_MARK)) {
      this.flush();
      this.where = `commit ${line.slice(1)}`;
      this.inHunk = false;
      return;
    }
    if (line.startsWith("diff --git ")) {
      this.flush();
      this.where = "";
      this.inHunk = false;
      return;
    }
    if (!this.inHunk && this.where.startsWith("commit ")) {
      this.chunk.push(line.slice(1));
      return;
    }
    if (!this.inHunk) {
      if (line.startsWith("+++ ") && line !== "+++ /dev/null") {
        const file = line.slice(4).replace(/^b\//, "");
        this.where = `path ${file}`;
        // The path is content too: a name can carry data.
        this.chunk.push(file);
      } else if (line.startsWith("@@")) {
        this.inHunk = true;
      }
      return;
    }
    if (line.startsWith("+")) this.chunk.push(line.slice(1));
    else if (line.startsWith("@@")) this.inHunk = true;
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.chunk.length > 0 && this.where !== "") {
      this.emit({ where: this.where, text: this.chunk.join("\n") });
    }
    this.chunk = [];
  }
}

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
  const args = [
    "log",
    "--no-color",
    "--text",
    "--patch",
    "--no-renames",
    "--no-ext-diff",
    "--no-textconv",
    "--diff-merges=first-parent",
    // The message indented one space, so none of its lines reads as a diff's.
    `--format=format:${COMMIT_MARK}%H%n%w(0,1,1)%B`,
    ...tips,
    "--not",
    "--all",
  ];
  const child = spawn("git", args, { env, stdio: ["ignore", "pipe", "ignore"] });
  child.stdout.setEncoding("latin1");
  const result: { found: ContentFinding | null } = { found: null };
  const reader = new AddedContentReader((chunk) => {
    if (result.found !== null) return;
    result.found = scan(chunk.text, chunk.where)[0] ?? null;
    if (result.found !== null) child.kill();
  });
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  const exit = new Promise<number>((resolve) => {
    child.on("close", (code) => {
      resolve(code ?? 1);
    });
    child.on("error", () => {
      resolve(127);
    });
  });
  for await (const line of lines) {
    reader.line(line);
    if (result.found !== null) break;
  }
  reader.end();
  const code = await exit;
  // Fail closed: content git could not show is content nobody checked.
  if (result.found === null && code !== 0) throw new Error(`git log failed (exit ${code})`);
  return result.found;
}
