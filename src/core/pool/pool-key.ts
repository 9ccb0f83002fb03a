/**
 * What a warm pool is keyed by (PURE). A pooled bottle was planned and launched from a manifest
 * and host facts at pool time; `bottle start` may hand it out only when a plan made now would be
 * the same, identity aside. Planning is pure (core/plan/make-plan.ts), so the key covers its
 * inputs and what the launch reads from the host besides the plan: the manifest's bytes, the
 * host files and folders the bottle holds copies of, the forwarded environment values baked into
 * the agent's environment, the agent image's recipe, the package's build, the engine's runtime
 * registration. The sources to read are derived from the pooled plan (`sourcesFromPlan`): while
 * the manifest's bytes are unchanged they are the sources a new plan would name, and when they
 * changed the key differs anyway.
 *
 * Not in the key: which environment variables are set (they change only the plan's warnings), the
 * secrets (read at take time, never pooled) and `--cwd` (pooled starts have none).
 */
import { createHash } from "node:crypto";
import type { BottlePlan } from "../plan/bottle-plan.js";

/** Where the readings come from: stored with the pooled bottle, derived from its plan. */
export interface PoolSources {
  /** The manifest file (absolute path). */
  manifest: string;
  /** Host files whose content the bottle was made from (known_hosts of git entries). */
  files: string[];
  /** Host folders copied into the agent (skills). */
  dirs: string[];
  /** Host variables forwarded into the agent's environment (their values are in it). */
  env: string[];
  /** The agent image's recipe: its Dockerfile (relative to the package, or absolute) and base. */
  agent_recipe: { dockerfile: string; base: string };
  /** Random salt of the forwarded values' hash: the state holds no plain hash of them. */
  salt: string;
}

/** What the host says now about each source; equal readings give equal keys. */
export interface PoolReadings {
  agent: string;
  manifest: { path: string; sha256: string };
  home: string;
  /** Content hash of each source file or folder ("missing" when absent). */
  files: Record<string, string>;
  dirs: Record<string, string>;
  /** Salted hash of the forwarded values, in order of `sources.env`. */
  env: string;
  /** BOT_BOTTLE_BASE_IMAGE, BOT_BOTTLE_UPSTREAM_CA (and its file's hash), DOCKER_HOST. */
  host_env: Record<string, string>;
  /** Content hash of the agent image's build context. */
  agent_recipe: string;
  /** The package's build (the sidecar's code, the provisioning) and the engine's runtimes. */
  package_stamp: string;
  daemon_config: string;
}

/** The sources of a pooled plan (pure). */
export function sourcesFromPlan(plan: BottlePlan, salt: string): PoolSources {
  return {
    manifest: plan.manifest,
    files: plan.git.filter((g) => g.host_keys.length === 0).map((g) => g.known_hosts),
    dirs: plan.skills.map((s) => s.from),
    env: Object.values(plan.env).flatMap((source) =>
      "from_host" in source ? [source.from_host] : [],
    ),
    agent_recipe: { dockerfile: plan.images.agent.dockerfile, base: plan.images.agent.base },
    salt,
  };
}

/** JSON with object keys sorted, so equal readings always serialise alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The pool key of some readings: a SHA-256 over their canonical form. */
export function poolKey(readings: PoolReadings): string {
  return createHash("sha256").update(canonical(readings)).digest("hex");
}

/** The salted hash of forwarded values (undefined: not set). */
export function envHash(salt: string, values: readonly (string | undefined)[]): string {
  const hash = createHash("sha256").update(salt);
  for (const value of values) hash.update(value === undefined ? "\u0000unset" : `\u0001${value}`);
  return hash.digest("hex");
}
