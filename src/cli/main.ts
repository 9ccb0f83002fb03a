/** Entry point of the `bottle` command: the only place that exits the process. */
import { currentHostEnv } from "../core/host/paths.js";
import type { CommandContext } from "./context.js";

const argv = process.argv.slice(2);
const ctx: CommandContext = {
  host: currentHostEnv(),
  io: {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  },
  confirm: process.stdin.isTTY
    ? async (question) => {
        // Loaded when a question is asked: a pooled start with --yes never loads it.
        const { default: readline } = await import("node:readline/promises");
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      }
    : undefined,
};

/** A start from a warm pool loads only what it needs (pooled-start.ts); else the whole CLI. */
async function run(): Promise<number> {
  if (argv[0] === "start") {
    const { tryPooledStart } = await import("./pooled-start.js");
    try {
      const pooled = await tryPooledStart(argv, ctx);
      if (pooled !== undefined) return pooled;
    } catch (error) {
      const { renderError } = await import("./program.js");
      const { isBottleError } = await import("../core/errors.js");
      ctx.io.err(renderError(error));
      return isBottleError(error) ? error.exitCode : 1;
    }
  }
  const { runCli } = await import("./program.js");
  return runCli(argv, ctx);
}

process.exitCode = await run();
