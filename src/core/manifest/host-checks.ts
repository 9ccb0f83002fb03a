/**
 * Checks of a (schema-valid) manifest against the host: files it names exist, skills it names are
 * installed. Pure: the host is reached only through the injected probe.
 */
import path from "node:path";
import { expandPath, skillDir } from "../host/paths.js";
import type { ManifestProblem } from "./format-issues.js";
import { formatPath } from "./format-issues.js";
import type { Manifest } from "./schema.js";

export interface HostProbe {
  home: string;
  /** Folder of the manifest file; relative paths in it resolve from there. */
  manifestDir: string;
  exists(file: string): boolean;
}

export function checkAgainstHost(manifest: Manifest, probe: HostProbe): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const problem = (segments: PropertyKey[], message: string): void => {
    problems.push({ path: formatPath(segments), segments, message });
  };
  const resolve = (file: string): string => expandPath(file, probe.home, probe.manifestDir);

  for (const [agentName, agent] of Object.entries(manifest.agents)) {
    agent.skills.forEach((skill, index) => {
      const dir = skillDir(probe.home, skill);
      if (!probe.exists(dir)) {
        problem(
          ["agents", agentName, "skills", index],
          `skill "${skill}" is not installed on the host (looked in ${dir})`,
        );
      }
    });
  }
  for (const [bottleName, bottle] of Object.entries(manifest.bottles)) {
    const at = (...rest: PropertyKey[]): PropertyKey[] => ["bottles", bottleName, ...rest];
    if (bottle.image.dockerfile !== undefined && !probe.exists(resolve(bottle.image.dockerfile))) {
      problem(at("image", "dockerfile"), `file not found: ${resolve(bottle.image.dockerfile)}`);
    }
    bottle.credentials.forEach((cred, index) => {
      if ("file" in cred.token && !probe.exists(resolve(cred.token.file))) {
        problem(
          at("credentials", index, "token", "file"),
          `token file not found: ${resolve(cred.token.file)}`,
        );
      }
    });
    bottle.git.forEach((entry, index) => {
      if (entry.identity_file !== undefined && !probe.exists(resolve(entry.identity_file))) {
        problem(
          at("git", index, "identity_file"),
          `identity file not found: ${resolve(entry.identity_file)}`,
        );
      }
      if (entry.known_hosts !== undefined && !probe.exists(resolve(entry.known_hosts))) {
        problem(
          at("git", index, "known_hosts"),
          `known_hosts file not found: ${resolve(entry.known_hosts)}`,
        );
      }
    });
  }
  return problems;
}

export function manifestDirOf(manifestPath: string): string {
  return path.dirname(manifestPath);
}
