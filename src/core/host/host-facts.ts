/**
 * Gathers the HostFacts a plan needs. Reads only: environment variable names, the Docker daemon
 * config file, image recipe contents, the remotes of a `--cwd` repository, which git upstream
 * hosts the operator's known_hosts files know. Writes nothing and (unless given engine facts) calls no
 * engine, so `start --dry-run` stays free of side effects.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { BottleSpec, Manifest } from "../manifest/schema.js";
import { knownHostsName } from "../plan/git-remotes.js";
import type { HostFacts } from "../plan/make-plan.js";
import type { EngineFacts } from "../plan/runtime.js";
import { providerSpec } from "../plan/provider-spec.js";
import { expandPath } from "./paths.js";
import type { HostEnv } from "./paths.js";
import { packageRoot } from "./package-root.js";
import { SIDECAR_RECIPE, contextHash, imageContext } from "../../images/image-context.js";

export const DEFAULT_BASE_IMAGE = "node:20-bookworm-slim";
export const DAEMON_CONFIG = "/etc/docker/daemon.json";

/** A new identity suffix: 6 characters of [a-z0-9], about 31 bits. */
export function newIdentitySuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(6)].map((byte) => alphabet[byte % alphabet.length]).join("");
}

/** Runtimes named in the daemon config file, for planning without asking the engine. */
export function runtimesFromDaemonConfig(file = DAEMON_CONFIG): EngineFacts | undefined {
  try {
    const config = JSON.parse(fs.readFileSync(file, "utf8")) as {
      runtimes?: Record<string, unknown>;
    };
    return { runtimes: ["runc", ...Object.keys(config.runtimes ?? {})], source: "daemon-config" };
  } catch {
    return undefined;
  }
}

/** Content hash of an image recipe's build context, or undefined when the recipe is missing. */
export function recipeHash(root: string, recipe: string, base: string): string | undefined {
  const files = imageContext(root, recipe);
  return files === undefined ? undefined : contextHash(files, base);
}

/** The remotes (name, url) of the git repository at `folder`; none when it is not one. */
export function gitRemotes(folder: string): { name: string; url: string }[] {
  let text: string;
  try {
    text = execFileSync(
      "git",
      ["-C", folder, "config", "--local", "--get-regexp", "^remote\\..*\\.url$"],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((line) => /^remote\.(.+)\.url (.+)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ name: match[1] ?? "", url: match[2] ?? "" }));
}

/**
 * Which SSH upstream hosts of the bottle's git entries have a key in their known_hosts file
 * (hashed entries included: `ssh-keygen -F` reads them). Pinned host keys are the plan's to check.
 */
export function knownGitHosts(
  host: HostEnv,
  bottle: BottleSpec | undefined,
  manifestDir: string,
): Set<string> {
  const known = new Set<string>();
  for (const entry of bottle?.git ?? []) {
    const name = knownHostsName(entry.upstream);
    if (name === null || (entry.host_keys ?? []).length > 0) continue;
    const file = expandPath(entry.known_hosts ?? "~/.ssh/known_hosts", host.home, manifestDir);
    try {
      execFileSync("ssh-keygen", ["-F", name, "-f", file], { stdio: "ignore" });
      known.add(name);
    } catch {
      // Not there, no such file, or no ssh-keygen: not known.
    }
  }
  return known;
}

export function gatherHostFacts(
  host: HostEnv,
  manifest: Manifest,
  manifestPath: string,
  agentName: string,
  engine: EngineFacts | undefined,
  copyFrom?: string,
): HostFacts {
  const defaultBase = host.env["BOT_BOTTLE_BASE_IMAGE"] ?? DEFAULT_BASE_IMAGE;
  const root = packageRoot();
  const recipeHashes: Record<string, string> = {};
  const agent = manifest.agents[agentName];
  const bottle = agent === undefined ? undefined : manifest.bottles[agent.bottle];
  if (agent !== undefined && bottle !== undefined) {
    const builtin = `images/${providerSpec(agent.provider).recipe}/Dockerfile`;
    const recipe =
      bottle.image.dockerfile === undefined
        ? builtin
        : expandPath(bottle.image.dockerfile, host.home, path.dirname(manifestPath));
    const hash = recipeHash(root, recipe, bottle.image.base ?? defaultBase);
    if (hash !== undefined) recipeHashes[recipe] = hash;
  }
  const sidecarHash = recipeHash(root, SIDECAR_RECIPE, defaultBase);
  if (sidecarHash !== undefined) recipeHashes[SIDECAR_RECIPE] = sidecarHash;

  return {
    home: host.home,
    manifestPath,
    envNames: new Set(Object.keys(host.env).filter((name) => host.env[name] !== undefined)),
    engine,
    defaultBase,
    recipeHashes,
    identitySuffix: newIdentitySuffix(),
    workspaceRemotes: copyFrom === undefined ? [] : gitRemotes(copyFrom),
    knownHosts: knownGitHosts(host, bottle, path.dirname(manifestPath)),
  };
}
