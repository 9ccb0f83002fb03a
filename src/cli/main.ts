/** Entry point of the `bottle` command: the only place that exits the process. */
import readline from "node:readline/promises";
import { currentHostEnv } from "../core/host/paths.js";
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  host: currentHostEnv(),
  io: {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  },
  confirm: process.stdin.isTTY
    ? async (question) => {
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      }
    : undefined,
});
process.exitCode = code;
