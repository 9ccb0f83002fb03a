/**
 * Turns zod issues into one line each: the key path, what is wrong, and (for unknown keys) the
 * closest known key. Lines never quote the offending value, so a secret pasted in the wrong place
 * is not echoed back.
 */
import type { z } from "zod";
import { didYouMean } from "./did-you-mean.js";
import { knownKeysAt } from "./schema-keys.js";

export interface ManifestProblem {
  /** Key path such as `bottles.dev.egress.allow[0]`; empty for the document root. */
  path: string;
  message: string;
  /** Path segments, for locating the key in the source. */
  segments: readonly PropertyKey[];
}

export function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      const safe = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : JSON.stringify(key);
      out += out === "" ? safe : `.${safe}`;
    }
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return /received undefined/.test(issue.message)
        ? `is required (expected ${issue.expected})`
        : `expected ${issue.expected}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      return "does not match any accepted form (see `bottle manifest schema`)";
    case "too_small":
      return issue.origin === "array"
        ? `needs at least ${issue.minimum} item(s)`
        : `must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `takes at most ${issue.maximum} item(s)`
        : `must be at most ${issue.maximum}`;
    case "invalid_key":
      return "has an invalid key";
    default:
      return issue.message;
  }
}

export function toProblems(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const suggestion = didYouMean(key, known);
        const segments = [...issue.path, key];
        problems.push({
          path: formatPath(segments),
          segments,
          message: `unknown key${suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`}`,
        });
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      for (const inner of issue.issues) {
        const segments = [...issue.path];
        problems.push({
          path: formatPath(segments),
          segments,
          message: `invalid key: ${inner.message}`,
        });
      }
      continue;
    }
    problems.push({
      path: formatPath(issue.path),
      segments: issue.path,
      message: describeIssue(issue),
    });
  }
  return problems;
}
