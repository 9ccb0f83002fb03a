/**
 * PURE: reads Dockerfile text into instructions the way Docker's parser does, so that what the
 * project checks is what the builder will run: parser directives at the top (`# escape=`),
 * comments (also between continued lines), line continuations with the escape character,
 * case-insensitive keywords, JSON (exec) and shell forms, and heredocs (`<<EOF`, `<<-EOF`,
 * quoted delimiters) whose bodies are never read as instructions.
 *
 * It never throws: what it cannot read (an instruction cut by the end of the text, a heredoc
 * without its closing line) is reported in the result for the caller to refuse.
 */

export interface Heredoc {
  delimiter: string;
  /** The body lines joined with "\n" (leading tabs removed for `<<-`). */
  body: string;
}

export interface Instruction {
  /** Upper-case keyword (`RUN`, `USER`, ...). */
  keyword: string;
  /** Everything after the keyword, continuations joined, trimmed. */
  args: string;
  /** The JSON (exec) form's strings, or undefined for the shell form. */
  json: string[] | undefined;
  heredocs: Heredoc[];
  /** 1-based line of the keyword. */
  line: number;
}

export interface ParsedDockerfile {
  /** Parser directives found at the top (`escape`, `syntax`, `check`), keys lower-case. */
  directives: { key: string; value: string; line: number }[];
  instructions: Instruction[];
  /** Problems that make the text unreadable as a whole: the builder would refuse or misread it. */
  problems: { line: number; message: string }[];
}

const DIRECTIVE = /^#\s*(syntax|escape|check)\s*=\s*(.*?)\s*$/i;
const HEREDOC = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;
const HEREDOC_KEYWORDS = new Set(["RUN", "COPY", "ADD"]);

function readDirectives(lines: readonly string[]): {
  directives: ParsedDockerfile["directives"];
  next: number;
} {
  const directives: ParsedDockerfile["directives"] = [];
  let index = 0;
  for (; index < lines.length; index++) {
    const match = DIRECTIVE.exec(lines[index] ?? "");
    if (match === null) break;
    directives.push({
      key: (match[1] ?? "").toLowerCase(),
      value: match[2] ?? "",
      line: index + 1,
    });
  }
  return { directives, next: index };
}

/** The JSON form's strings when `args` is a JSON array of strings; otherwise undefined. */
export function jsonForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const value = JSON.parse(args) as unknown;
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value;
  } catch {
    // Not JSON: Docker runs it in the shell form.
  }
  return undefined;
}

/** Whether `line` ends with the escape character (trailing whitespace ignored). */
function continues(line: string, escape: string): boolean {
  return line.trimEnd().endsWith(escape);
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const { directives, next } = readDirectives(lines);
  const escapeDirective = directives.find((d) => d.key === "escape")?.value;
  const escape = escapeDirective === "`" ? "`" : "\\";
  const instructions: Instruction[] = [];
  const problems: ParsedDockerfile["problems"] = [];
  let index = next;
  while (index < lines.length) {
    const raw = lines[index] ?? "";
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      index++;
      continue;
    }
    const startLine = index + 1;
    let logical = "";
    let current = raw;
    let ended = false;
    for (;;) {
      if (continues(current, escape)) {
        logical += current.trimEnd().slice(0, -1);
        index++;
        // Comment and empty lines inside a continued instruction are skipped, as Docker does.
        while (index < lines.length) {
          const candidate = (lines[index] ?? "").trim();
          if (candidate !== "" && !candidate.startsWith("#")) break;
          index++;
        }
        if (index >= lines.length) break;
        current = lines[index] ?? "";
        continue;
      }
      logical += current;
      index++;
      ended = true;
      break;
    }
    if (!ended) {
      problems.push({
        line: startLine,
        message: `the instruction on line ${startLine} ends with a line continuation and nothing follows it`,
      });
    }
    const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(logical);
    const keyword = (match?.[1] ?? "").toUpperCase();
    const args = (match?.[2] ?? "").trim();
    const heredocs: Heredoc[] = [];
    if (HEREDOC_KEYWORDS.has(keyword)) {
      for (const found of args.matchAll(HEREDOC)) {
        const strip = found[1] === "-";
        const delimiter = found[3] ?? "";
        const body: string[] = [];
        let closed = false;
        while (index < lines.length) {
          const bodyLine = lines[index] ?? "";
          index++;
          const compared = strip ? bodyLine.replace(/^\t+/, "") : bodyLine;
          if (compared === delimiter) {
            closed = true;
            break;
          }
          body.push(compared);
        }
        if (!closed) {
          problems.push({
            line: startLine,
            message: `the heredoc <<${delimiter} opened on line ${startLine} is never closed`,
          });
        }
        heredocs.push({ delimiter, body: body.join("\n") });
      }
    }
    instructions.push({ keyword, args, json: jsonForm(args), heredocs, line: startLine });
  }
  return { directives, instructions, problems };
}

/** The command text of a RUN (shell or JSON form) and its heredoc bodies, for pattern checks. */
export function commandText(instruction: Instruction): string {
  const head = instruction.json === undefined ? instruction.args : instruction.json.join(" ");
  return [head, ...instruction.heredocs.map((h) => h.body)].join("\n");
}
