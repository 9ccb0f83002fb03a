/**
 * The `bottle` command line: parses arguments, calls the command modules, renders errors.
 * Returns an exit code; only main.ts exits the process.
 */
import { Command, CommanderError, Option } from "commander";
import { commandLines } from "../core/command-lines.js";
import { isBottleError } from "../core/errors.js";
import type { CommandContext } from "./context.js";
import type { DashboardCommandOptions } from "./commands/dashboard.js";
import { dashboardCommand } from "./commands/dashboard.js";
import { doctorCommand } from "./commands/doctor.js";
import { initCommand } from "./commands/init.js";
import { schemaCommand, validateCommand } from "./commands/manifest.js";
import type { StartOptions } from "./commands/start.js";
import { startCommand } from "./commands/start.js";
import { logsCommand } from "./commands/logs.js";
import type { PoolOptions } from "./commands/pool.js";
import { poolCommand } from "./commands/pool.js";
import { registerPolicy, registerSupervise } from "./supervise-program.js";
import {
  attachCommand,
  cleanupCommand,
  execCommand,
  listCommand,
  resumeCommand,
  stopCommand,
} from "./commands/bottles.js";

const VERSION = "0.1.0";

export function buildProgram(ctx: CommandContext, setExitCode: (code: number) => void): Command {
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
      `\nWithout --detach, your terminal is attached to the agent program and the bottle is stopped\n(workspace saved, containers removed) when it exits; \`bottle resume\` starts it again.\nWith a warm pool (\`${commandLines.pool("<agent>", 2)}\`), a start without --cwd takes a pooled\nbottle that still matches the manifest, at once; the pool refills in the background.\n\nExamples:\n  bottle start shell --dry-run\n  bottle start implementer --dry-run --format json\n  bottle start shell --yes --detach && bottle list`,
    )
    .action(async (agent: string, opts: StartOptions) => {
      setExitCode(await startCommand(agent, opts, ctx));
    });

  program
    .command("pool")
    .description(
      "Keep bottles of an agent started and idle, for `bottle start` to take at once; show the pools",
    )
    .argument("[agent]", "agent name from the manifest (without --size: show only its pool)")
    .option("--size <n>", "how many bottles to keep ready (0 drains the pool)")
    .option("-m, --manifest <file>", "manifest file (the pool is filled from it)")
    .option("--json", "print the pools as JSON", false)
    .addHelpText(
      "after",
      `
A pooled bottle is a whole bottle (its own identity, state and CA; sidecar ready; agent
provisioned and started) that holds no secret: its gates refuse everything until a start takes it.
\`${commandLines.start("AGENT")}\` without --cwd takes the oldest one that still matches the manifest and the
host (else it starts a bottle as usual), hands its sidecar the secrets, and the pool refills in the
background (log: pool/refill.log in the state home). A pooled bottle that is dead or no longer
matches is removed, never handed out. \`${commandLines.list()}\` shows pooled bottles apart from sessions.

Examples:
  ${commandLines.pool("implementer", 2)}
  ${commandLines.start("implementer", { yes: true, detach: true })}
  ${commandLines.pool()}
  ${commandLines.pool("implementer", 0)}`,
    )
    .action(async (agent: string | undefined, opts: PoolOptions) => {
      await poolCommand(agent, opts, ctx);
    });

  program
    .command("list")
    .description("List bottles: identity, agent, status, health, age, runtime")
    .option("--json", "print JSON", false)
    .action(async (opts: { json: boolean }) => {
      await listCommand(opts, ctx);
    });

  program
    .command("attach")
    .description("Attach this terminal to a running bottle's agent program")
    .argument("<identity>", "bottle identity (see `bottle list`)")
    .action(async (identity: string) => {
      setExitCode(await attachCommand(identity, ctx));
    });

  program
    .command("exec")
    .description("Run a command in a running bottle (no terminal needed; exit code passed through)")
    .argument("<identity>", "bottle identity")
    .argument("<command...>", "command and arguments, after --")
    .addHelpText("after", "\nExample:\n  bottle exec shell-ab12cd -- curl -sS https://example.com")
    .action(async (identity: string, command: string[]) => {
      setExitCode(await execCommand(identity, command, ctx));
    });

  program
    .command("stop")
    .description("Stop a bottle: save its workspace, remove its containers, network and volume")
    .argument("<identity>", "bottle identity")
    .action(async (identity: string) => {
      await stopCommand(identity, ctx);
    });

  program
    .command("resume")
    .description("Start a stopped bottle again with the same identity, policy and workspace")
    .argument("<identity>", "bottle identity")
    .option("-d, --detach", "return once the bottle is ready instead of attaching", false)
    .action(async (identity: string, opts: { detach: boolean }) => {
      setExitCode(await resumeCommand(identity, opts, ctx));
    });

  program
    .command("cleanup")
    .description(
      "Find leftovers by label (containers, networks, volumes, stale state) and remove them",
    )
    .option("-y, --yes", "remove without asking", false)
    .option("--all-homes", "also look at bottles made with another BOT_BOTTLE_HOME", false)
    .action(async (opts: { yes: boolean; allHomes: boolean }) => {
      await cleanupCommand(opts, ctx);
    });

  registerPolicy(program, ctx);
  registerSupervise(program, ctx, setExitCode);

  program
    .command("logs")
    .description(
      "Show a bottle's audit log: every egress request, or every git fetch and push, with its verdict",
    )
    .argument("<identity>", "bottle identity")
    .option("--egress", "the egress log (default)", false)
    .option(
      "--git",
      "the git gate's log: refs, old..new ids, verdict and reason per fetch or push",
      false,
    )
    .option("-f, --follow", "keep printing new lines", false)
    .option("--json", "print the raw JSON lines", false)
    .action(
      async (
        identity: string,
        opts: { egress: boolean; git: boolean; follow: boolean; json: boolean },
      ) => {
        await logsCommand(identity, opts, ctx);
      },
    );

  program
    .command("dashboard")
    .description(
      "Serve one local web page for every bottle: traffic, requests, approvals, policy, stop/resume",
    )
    .option("--port <port>", "port on 127.0.0.1 (0: any free port)", "0")
    .option("--no-open", "do not open a browser")
    .option("--host <address>", "listen address; only 127.0.0.1 is accepted", "127.0.0.1")
    .addHelpText(
      "after",
      `\nThe first line printed is the page's address with a secret token; the page trades it for a\ncookie. Scripts can call the JSON API under /api/ with \`Authorization: Bearer <token>\`.\n\nExample:\n  ${commandLines.dashboard({ port: 8377, open: false })}`,
    )
    .action(async (opts: DashboardCommandOptions) => {
      await dashboardCommand(opts, ctx);
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
  if (error instanceof Error && "statusCode" in error) {
    // An answer of the Docker engine that no command turned into a BottleError.
    return `error: the Docker engine refused: ${error.message}\nhint: \`bottle doctor\` checks the engine; \`bottle cleanup\` removes leftovers.`;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error (please report it): ${message}`;
}

export async function runCli(argv: readonly string[], ctx: CommandContext): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (usage errors) or the help text.
      return error.exitCode === 0 ? 0 : 2;
    }
    ctx.io.err(renderError(error));
    return isBottleError(error) ? error.exitCode : 1;
  }
}
