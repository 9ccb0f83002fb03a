/**
 * Reads what a pool key covers (see pool-key.ts) from the host: file and folder contents, the
 * forwarded environment (hashed with a salt, never kept plain), the agent image's recipe, the
 * package's build and the engine's runtime registration. Reads only; fast enough for the pooled
 * start's path (no manifest parsing, no engine call).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { contextHash, imageContext } from "../../images/image-context.js";
import type { HostEnv } from "../host/paths.js";
import type { PoolReadings, PoolSources } from "./pool-key.js";
import { envHash } from "./pool-key.js";

const DAEMON_CONFIG = "/etc/docker/daemon.json";
/** Compiled files whose build time stands for the package's build (sidecar, CLI, provisioning). */
const BUILD_FILES = [
  "dist/src/cli/main.js",
  "dist/src/sidecar/main.js",
  "dist/src/providers/provision.js",
];

function fileHash(file: string): string {
  try {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  } catch {
    return "missing";
  }
}

/** A folder's files (names and contents, in order); "missing" when it is not there. */
function dirHash(dir: string): string {
  let names: string[];
  try {
    names = fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
  } catch {
    return "missing";
  }
  const hash = createHash("sha256");
  for (const name of names) {
    const file = path.join(dir, name);
    const stat = fs.lstatSync(file);
    hash.update(`${name}\u0000${stat.mode.toString(8)}\u0000`);
    if (stat.isFile()) hash.update(fs.readFileSync(file));
    else if (stat.isSymbolicLink()) hash.update(fs.readlinkSync(file));
  }
  return hash.digest("hex");
}

function packageStamp(root: string): string {
  const parts = [fileHash(path.join(root, "package.json"))];
  for (const name of BUILD_FILES) {
    try {
      const stat = fs.statSync(path.join(root, name));
      parts.push(`${name}:${String(stat.mtimeMs)}:${String(stat.size)}`);
    } catch {
      parts.push(`${name}:missing`);
    }
  }
  return parts.join("|");
}

export function readPoolReadings(
  host: HostEnv,
  agent: string,
  sources: PoolSources,
  packageRoot: string,
): PoolReadings {
  const upstreamCa = host.env["BOT_BOTTLE_UPSTREAM_CA"] ?? "";
  const context = imageContext(packageRoot, sources.agent_recipe.dockerfile);
  return {
    agent,
    manifest: { path: sources.manifest, sha256: fileHash(sources.manifest) },
    home: host.home,
    files: Object.fromEntries(sources.files.map((file) => [file, fileHash(file)])),
    dirs: Object.fromEntries(sources.dirs.map((dir) => [dir, dirHash(dir)])),
    env: envHash(
      sources.salt,
      sources.env.map((name) => host.env[name]),
    ),
    host_env: {
      BOT_BOTTLE_BASE_IMAGE: host.env["BOT_BOTTLE_BASE_IMAGE"] ?? "",
      BOT_BOTTLE_UPSTREAM_CA: upstreamCa,
      upstream_ca_file: upstreamCa === "" ? "" : fileHash(path.resolve(host.cwd, upstreamCa)),
      DOCKER_HOST: host.env["DOCKER_HOST"] ?? "",
    },
    agent_recipe:
      context === undefined ? "missing" : contextHash(context, sources.agent_recipe.base),
    package_stamp: packageStamp(packageRoot),
    daemon_config: fileHash(DAEMON_CONFIG),
  };
}
