/**
 * Where the manifest is: `--manifest FILE`, else ./bottle.{yaml,yml,json}, else
 * $BOT_BOTTLE_HOME/bottle.yaml. Apart from the parser and schema (load.ts), so that the pooled
 * start's path finds the manifest without loading them.
 */
import fs from "node:fs";
import path from "node:path";
import { BottleError } from "../errors.js";
import type { HostEnv } from "../host/paths.js";
import { botBottleHome } from "../host/paths.js";

export const MANIFEST_NAMES = ["bottle.yaml", "bottle.yml", "bottle.json"] as const;

/** The manifest path: `--manifest FILE`, else ./bottle.{yaml,yml,json}, else $BOT_BOTTLE_HOME/bottle.yaml. */
export function findManifest(host: HostEnv, explicit?: string): string {
  if (explicit !== undefined) {
    const file = path.resolve(host.cwd, explicit);
    if (!fs.existsSync(file)) {
      throw new BottleError("manifest_not_found", `Manifest not found: ${file}`, {
        hint: "Check the --manifest path, or run `bottle init` to write a starter manifest.",
      });
    }
    return file;
  }
  const candidates = [
    ...MANIFEST_NAMES.map((name) => path.join(host.cwd, name)),
    path.join(botBottleHome(host), "bottle.yaml"),
  ];
  const found = candidates.find((file) => fs.existsSync(file));
  if (found === undefined) {
    throw new BottleError("manifest_not_found", "No manifest found.", {
      hint: "Run `bottle init` to write a starter bottle.yaml here, or pass --manifest FILE.",
      details: candidates.map((file) => `looked for ${file}`),
    });
  }
  return found;
}
