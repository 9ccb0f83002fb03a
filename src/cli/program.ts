/**
 * The `bottle` command line: parses arguments, calls the command modules, renders errors.
 * Returns an exit code; only main.ts exits the process.
 */
import { Command, CommanderError, Option } from "commander";
import { isBottleError } from "../core/errors.js";
import type { CommandContext } from "./context.js";
import { doctorCommand } from "./commands/doctor.js";
import { initCommand } from "./commands/init.js";
import { schemaCommand, validateCommand } from "./commands/manifest.js";
import type { StartOptions } from "./commands/start.js";
import { startCommand } from "./commands/start.js";

const VERSION = "0.1.0";

function buildProgram(ctx: CommandContext): Command {
  const program = new Command("bottle")
    .description(
      "Run AI coding agents in bottles: isolated containers whose every way out is a gate you control.",
    )
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        ctx.io.out(s.trimEnd());
      },
      writeErr: (s) => {
        ctx.io.err(s.trimEnd());
      },
    })
    .addHelpText(
      "after",
      "\nManifest: --manifest FILE, else ./bottle.yaml|yml|json, else $BOT_BOTTLE_HOME/bottle.yaml.\nFirst steps: bottle init && bottle doctor && bottle start shell --dry-run",
    );

  program
    .command("init")
    .description("Write a commented starter manifest (bottle.yaml)")
    .option("-f, --file <path>", "where to write it", "bottle.yaml")
    .option("--force", "overwrite an existing file", false)
    .action((opts: { file: string; force: boolean }) => {
      initCommand(opts, ctx);
    });

  const manifest = program
    .command("manifest")
    .description("Check a manifest, or print its JSON Schema");
  manifest
    .command("validate")
    .description(
      "Check a manifest: schema, cross references, files and skills it names on this host",
    )
    .argument("[file]", "manifest to check (default: the one `start` would use)")
    .action((file: string | undefined) => {
      validateCommand(file, ctx);
    });
  manifest
    .command("schema")
    .description("Print the manifest's JSON Schema (for editors and reference)")
    .action(() => {
      schemaCommand(ctx);
    });

  program
    .command("start")
    .description("Start an agent in a new bottle (shows the plan and asks first)")
    .argument("<agent>", "agent name from the manifest")
    .option("-m, --manifest <file>", "manifest file")
    .option("--cwd", "copy the current directory (.git included) into the agent's workspace", false)
    .option("-y, --yes", "do not ask for confirmation", false)
    .option("-d, --detach", "return once the bottle is ready instead of attaching", false)
    .option("--dry-run", "print the plan and create nothing", false)
    .addOption(
      new Option("--format <format>", "output of --dry-run")
        .choices(["text", "json"])
        .default("text"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  bottle start shell --dry-run\n  bottle start implementer --dry-run --format json",
    )
    .action((agent: string, opts: StartOptions) => {
      startCommand(agent, opts, ctx);
    });

  program
    .command("doctor")
    .description("Check the Docker engine, gVisor, the state folder and the manifest")
    .option("-m, --manifest <file>", "manifest file")
    .option("--json", "print the checks as JSON", false)
    .action(async (opts: { manifest?: string; json: boolean }) => {
      await doctorCommand(opts, ctx);
    });

  return program;
}

export function renderError(error: unknown): string {
  if (isBottleError(error)) {
    const lines = [`error: ${error.message}`, ...error.details.map((d) => `  ${d}`)];
    if (error.hint !== undefined && error.hint !== "") lines.push(`hint: ${error.hint}`);
    return lines.join("\n");
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error (please report it): ${message}`;
}

export async function runCli(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (usage errors) or the help text.
      return error.exitCode === 0 ? 0 : 2;
    }
    ctx.io.err(renderError(error));
    return isBottleError(error) ? error.exitCode : 1;
  }
}
