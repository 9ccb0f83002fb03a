/**
 * Branch patterns of the git gate's push policy, PURE: `*` matches any characters but `/`, `**`
 * any characters, `/` included; a pattern not starting with `refs/` names branches
 * (`refs/heads/<pattern>`). Shared by the gate (sidecar/git/push-policy.ts) and the operator's
 * risk flags.
 */
export function branchPatternRegex(pattern: string): RegExp {
  const full = pattern.startsWith("refs/") ? pattern : `refs/heads/${pattern}`;
  const source = full
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${source}$`);
}

/**
 * Why `pattern` is not a branch pattern the gate can take, or null. Refuses what git refuses in a
 * ref name (spaces, `..`, control characters, `~^:?[\`, a leading `-` or `/`).
 */
export function branchPatternProblem(pattern: string): string | null {
  if (pattern.length === 0 || pattern.length > 200) return "must be 1 to 200 characters";
  if (!/^[A-Za-z0-9._/*@+-]+$/.test(pattern)) {
    return "may hold letters, digits and . _ / * @ + - only";
  }
  if (pattern.includes("..") || pattern.includes("//") || /^[-/]|\/$/.test(pattern)) {
    return "is not a valid ref pattern (no `..`, `//`, leading `-` or `/`, trailing `/`)";
  }
  return null;
}
