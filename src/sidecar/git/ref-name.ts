/**
 * Which ref names a push may name, PURE: git's own rules (`git check-ref-format`, without
 * `--allow-onelevel`, `--refspec-pattern` or `--normalize`), then the gate's: only a branch or a
 * tag (`refs/heads/<name>`, `refs/tags/<name>`). A name git would refuse is refused by the gate
 * itself, before any policy pattern sees it (`bottle/t1/*` would otherwise match `bottle/t1/..`).
 */

/** Why git's check-ref-format refuses `ref`, or null when git takes it. */
export function refFormatProblem(ref: string): string | null {
  if (ref === "@") return "it is the single character @";
  if (ref.startsWith("/") || ref.endsWith("/")) return "it starts or ends with /";
  if (ref.includes("//")) return "it has an empty part (//)";
  if (!ref.includes("/")) return "it has a single part (git needs refs/...)";
  if (ref.endsWith(".")) return "it ends with .";
  if (ref.includes("..")) return "it holds ..";
  if (ref.includes("@{")) return "it holds @{";
  // Control characters, space and the characters git keeps for revision syntax and patterns.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) {
    return "it holds a control character, a space or one of ~ ^ : ? * [ \\";
  }
  for (const part of ref.split("/")) {
    if (part.startsWith(".")) return `its part "${part}" starts with .`;
    if (part.endsWith(".lock")) return `its part "${part}" ends with .lock`;
  }
  return null;
}

/** Why the gate refuses a ref name in a push, or null: git's rules, then branches and tags only. */
export function refNameProblem(ref: string): string | null {
  const format = refFormatProblem(ref);
  if (format !== null) return `"${printable(ref)}" is not a valid ref name: ${format}`;
  const kind = /^refs\/(heads|tags)\/./.exec(ref);
  if (kind === null) {
    return `"${printable(ref)}" is neither a branch (refs/heads/...) nor a tag (refs/tags/...)`;
  }
  return null;
}

/** A ref name as it can be shown: control characters escaped. */
function printable(ref: string): string {
  return ref.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}
