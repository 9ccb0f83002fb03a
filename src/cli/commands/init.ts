import fs from "node:fs";
import path from "node:path";
import { BottleError } from "../../core/errors.js";
import { STARTER_MANIFEST } from "../../core/manifest/starter.js";
import type { CommandContext } from "../context.js";

export interface InitOptions {
  file: string;
  force: boolean;
}

/** Writes the starter manifest; an existing file is kept unless --force. */
export function initCommand(options: InitOptions, ctx: CommandContext): void {
  const target = path.resolve(ctx.host.cwd, options.file);
  try {
    fs.writeFileSync(target, STARTER_MANIFEST, { flag: options.force ? "w" : "wx" });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
      throw new BottleError("file_exists", `${target} already exists; it was left unchanged.`, {
        hint: "Pass --force to overwrite it, or edit it and run `bottle manifest validate`.",
      });
    }
    throw cause;
  }
  ctx.io.err(
    `Wrote ${target}\nNext: \`bottle manifest validate\`, then \`bottle start shell --dry-run\`.`,
  );
}
