/**
 * `bottle dashboard [--port N] [--no-open]`: serves the dashboard on 127.0.0.1 until interrupted.
 * The first line of stdout is the address with its secret token (for the operator, or a script
 * that opens it); nothing else ever shows the token (the browser is opened on a 0600 file that
 * leads to it, never with the token in the opener's arguments: open-browser.ts).
 */
import os from "node:os";
import { DashboardServer } from "../../dashboard/dashboard-server.js";
import { openBrowser } from "../../dashboard/open-browser.js";
import { BottleError } from "../../core/errors.js";
import { botBottleHome } from "../../core/host/paths.js";
import type { CommandContext } from "../context.js";
import { operatorOf } from "./lifecycle-context.js";

export interface DashboardCommandOptions {
  port: string;
  open: boolean;
  host: string;
}

/** The operator's user name for the record, or `operator` where the system has none. */
function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return "operator";
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new BottleError("usage", `Port "${text}" is not a port number.`, {
      hint: "Ports are 1 to 65535 (0: any free port).",
    });
  return port;
}

export async function dashboardCommand(
  options: DashboardCommandOptions,
  ctx: CommandContext,
  /** Resolves when the dashboard should end (tests); default: SIGINT or SIGTERM. */
  until?: Promise<void>,
): Promise<void> {
  const server = new DashboardServer({
    op: operatorOf(ctx),
    port: parsePort(options.port),
    bind: options.host,
    by: `dashboard:${userName()}`,
    log: (line) => {
      ctx.io.err(`dashboard: ${line}`);
    },
  });
  let started: { url: string };
  try {
    started = await server.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES")
      throw new BottleError(
        "usage",
        `Port ${options.port} on 127.0.0.1 cannot be used (${code}).`,
        {
          hint: "Pick another with --port, or --port 0 for any free one.",
        },
      );
    throw error;
  }
  ctx.io.out(started.url);
  const browser = options.open
    ? openBrowser(started.url, ctx.host.env, botBottleHome(ctx.host))
    : undefined;
  const opened = browser?.opened === true;
  ctx.io.err(
    `Dashboard on 127.0.0.1 (${opened ? "opening your browser" : "open the address above in a browser"}); Ctrl-C ends it.`,
  );
  await (until ??
    new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    }));
  browser?.cleanup();
  await server.stop();
  ctx.io.err("Dashboard stopped.");
}
