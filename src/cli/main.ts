/** Entry point of the `bottle` command: the only place that exits the process. */
import { currentHostEnv } from "../core/host/paths.js";
import { runCli } from "./program.js";

const code = await runCli(process.argv.slice(2), {
  host: currentHostEnv(),
  io: {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  },
});
process.exitCode = code;
