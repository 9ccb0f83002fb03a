/**
 * Finding, reading, parsing and validating a manifest. Every failure is a BottleError (exit code
 * 2) that names the file, the key path and what to do; none quotes a value from the file.
 */
import fs from "node:fs";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { BottleError } from "../errors.js";
import type { HostEnv } from "../host/paths.js";
import type { ManifestProblem } from "./format-issues.js";
import { toProblems } from "./format-issues.js";
import { checkAgainstHost } from "./host-checks.js";
import type { Manifest } from "./schema.js";
import { manifestSchema } from "./schema.js";

export { MANIFEST_NAMES, findManifest } from "./find-manifest.js";
import { findManifest } from "./find-manifest.js";

export interface LoadedManifest {
  path: string;
  manifest: Manifest;
}

interface ParsedSource {
  data: unknown;
  lineOf(segments: readonly PropertyKey[]): number | undefined;
}

/** Parses YAML or JSON (YAML is a superset of JSON, so one parser gives positions for both). */
export function parseManifestText(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = lineCounter.linePos(first.pos[0]);
    throw new BottleError(
      "manifest_syntax",
      `${file}:${pos.line}:${pos.col}: not valid YAML or JSON (${first.code})`,
      {
        hint: "Fix the syntax at that line; `bottle manifest validate` checks again.",
      },
    );
  }
  return {
    data: doc.toJS() as unknown,
    lineOf(segments) {
      for (let n = segments.length; n >= 0; n--) {
        const node = doc.getIn(segments.slice(0, n) as unknown[], true) as
          { range?: [number, number, number] } | undefined;
        if (node?.range !== undefined) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

function invalid(
  file: string,
  problems: readonly ManifestProblem[],
  source: ParsedSource,
): BottleError {
  const details = problems.map((p) => {
    const line = source.lineOf(p.segments);
    const where = p.path === "" ? "(top level)" : p.path;
    return `${where}: ${p.message}${line === undefined ? "" : ` (line ${line})`}`;
  });
  return new BottleError(
    "manifest_invalid",
    `${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the manifest`,
    {
      details,
      hint: "Fix the keys named above; `bottle manifest schema` prints every accepted key.",
    },
  );
}

/** Reads, parses and validates one manifest file, including the checks against the host. */
export function loadManifestFile(file: string, host: HostEnv): LoadedManifest {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (cause) {
    throw new BottleError("manifest_unreadable", `Cannot read manifest ${file}`, {
      hint: "Check that the file exists and is readable.",
      cause,
    });
  }
  const source = parseManifestText(text, file);
  const result = manifestSchema.safeParse(source.data ?? {});
  if (!result.success) throw invalid(file, toProblems(manifestSchema, result.error.issues), source);
  const hostProblems = checkAgainstHost(result.data, {
    home: host.home,
    manifestDir: path.dirname(file),
    exists: (p) => fs.existsSync(p),
  });
  if (hostProblems.length > 0) throw invalid(file, hostProblems, source);
  return { path: file, manifest: result.data };
}

export function loadManifest(host: HostEnv, explicit?: string): LoadedManifest {
  return loadManifestFile(findManifest(host, explicit), host);
}
