import { loadManifest } from "../../core/manifest/load.js";
import { manifestJsonSchemaText } from "../../core/manifest/json-schema.js";
import type { CommandContext } from "../context.js";

export function validateCommand(file: string | undefined, ctx: CommandContext): void {
  const { path, manifest } = loadManifest(ctx.host, file);
  const agents = Object.keys(manifest.agents).join(", ");
  const bottles = Object.keys(manifest.bottles).join(", ");
  ctx.io.out(`${path}: valid (agents: ${agents}; bottles: ${bottles})`);
}

export function schemaCommand(ctx: CommandContext): void {
  ctx.io.out(manifestJsonSchemaText().trimEnd());
}
