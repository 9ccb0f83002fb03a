/**
 * The commands through which the operator widens or narrows a running bottle: `policy` (the
 * egress rules, live) and supervise's `requests`, `approve`, `deny`. Registered on the program by
 * program.ts; the actions live in commands/policy.ts and commands/requests.ts.
 */
import type { Command } from "commander";
import { commandLines } from "../core/command-lines.js";
import { BottleError } from "../core/errors.js";
import type { CommandContext } from "./context.js";
import {
  policyChangeCommand,
  policyListCommand,
  policyRemoveRequestCommand,
} from "./commands/policy.js";
import type { ApproveOptions, RequestsOptions } from "./commands/requests.js";
import { approveCommand, denyCommand, requestsCommand } from "./commands/requests.js";

/** `policy list|allow|deny|remove`. */
export function registerPolicy(program: Command, ctx: CommandContext): void {
  const policy = program
    .command("policy")
    .description("Show or change a bottle's egress rules, live (the change persists for resume)");
  policy
    .command("list")
    .description("Show the egress rules in force")
    .argument("<identity>", "bottle identity")
    .option("--json", "print JSON", false)
    .addHelpText(
      "after",
      "\nEach rule says where it came from (manifest, provider, operator, request <id>), who added it\nand when, and when it expires or whether it is used up by one request (once).",
    )
    .action(async (identity: string, opts: { json: boolean }) => {
      await policyListCommand(identity, opts, ctx);
    });
  policy
    .command("allow")
    .description("Allow a host (effective on the agent's next request)")
    .argument("<identity>", "bottle identity")
    .argument("<host>", "host, *.domain or IP address")
    .option("--port <port...>", "ports (default 443 and 80)")
    .option("--method <method...>", "HTTP methods (default any; enforced when intercepted)")
    .option("--path <prefix...>", "path prefixes (default any; enforced when intercepted)")
    .option("--passthrough", "tunnel TLS without interception", false)
    .option("--internal", "let the name resolve to an internal (private, loopback) address", false)
    .addHelpText(
      "after",
      `\nExample:\n  ${commandLines.policyAllow("dev-k3x9q2", "api.github.com", { methods: ["GET"] })}`,
    )
    .action(
      async (
        identity: string,
        host: string,
        opts: {
          port?: string[];
          method?: string[];
          path?: string[];
          passthrough: boolean;
          internal: boolean;
        },
      ) => {
        const ports = opts.port?.map((p) => {
          const n = Number(p);
          if (!Number.isInteger(n) || n < 1 || n > 65535) {
            throw new BottleError("usage", `Port "${p}" is not a port number.`, {
              hint: "Ports are 1 to 65535.",
            });
          }
          return n;
        });
        await policyChangeCommand(
          identity,
          {
            kind: "allow",
            host,
            tls: opts.passthrough ? "passthrough" : "intercept",
            internal: opts.internal,
            ...(ports === undefined ? {} : { ports }),
            ...(opts.method === undefined ? {} : { methods: opts.method }),
            ...(opts.path === undefined ? {} : { paths: opts.path }),
          },
          ctx,
        );
      },
    );
  policy
    .command("deny")
    .description("Deny a host, even if an allow rule covers it")
    .argument("<identity>", "bottle identity")
    .argument("<host>", "host, *.domain or IP address")
    .action(async (identity: string, host: string) => {
      await policyChangeCommand(identity, { kind: "deny", host }, ctx);
    });
  policy
    .command("remove")
    .description("Remove the allow or deny rule of a host, or the rules an approved request added")
    .argument("<identity>", "bottle identity")
    .argument("[host]", "host pattern as listed")
    .option("--request <id>", "remove the rules approved from this request (see `policy list`)")
    .addHelpText(
      "after",
      `\nExamples:\n  bottle policy remove dev-k3x9q2 api.github.com\n  ${commandLines.policyRemoveRequest("dev-k3x9q2", "r-1a2b3c")}`,
    )
    .action(async (identity: string, host: string | undefined, opts: { request?: string }) => {
      if ((host === undefined) === (opts.request === undefined)) {
        throw new BottleError("usage", "Name a host or --request <id> (one of them).", {
          hint: `\`${commandLines.policyList(identity)}\` shows the rules and where each came from.`,
        });
      }
      if (opts.request !== undefined) await policyRemoveRequestCommand(identity, opts.request, ctx);
      else await policyChangeCommand(identity, { kind: "remove", host: host ?? "" }, ctx);
    });
}

/** `requests`, `approve`, `deny`: what the agent asked for, and the operator's decisions. */
export function registerSupervise(
  program: Command,
  ctx: CommandContext,
  setExitCode: (code: number) => void,
): void {
  program
    .command("requests")
    .description("List what agents asked for (pending first, across bottles)")
    .argument(
      "[identity]",
      "only this bottle's requests; or a request (r-1a2b3c, <identity>/<id>) shown whole",
    )
    .option("--all", "decided requests too", false)
    .option("--json", "print JSON", false)
    .option("-w, --watch", "then print each new request as one line, with a terminal bell", false)
    .addHelpText(
      "after",
      [
        "",
        "Agents in bottles with `supervise: true` ask through MCP tools (request_egress,",
        "request_push_branch); each request waits here until you approve or deny it. A repeat of",
        "the same ask merges into the pending request (HITS); a wider repeat changes its revision.",
        "",
        "Examples:",
        `  ${commandLines.requests()}`,
        `  ${commandLines.requests({ watch: true })}`,
        `  ${commandLines.requests({ identity: "dev-k3x9q2", all: true })}`,
        `  ${commandLines.request("r-1a2b3c")}`,
      ].join("\n"),
    )
    .action(async (identity: string | undefined, opts: RequestsOptions) => {
      await requestsCommand(identity, opts, ctx);
    });

  program
    .command("approve")
    .description("Approve a request: shows exactly what it allows and its risk flags, asks y/N")
    .argument("<request>", "request id (r-1a2b3c), or <identity>/<id>")
    .option("--once", "the next matching request or tunnel only", false)
    .option("--for <duration>", "until a time: 30s, 10m, 1h, 2d (the sidecar enforces it)")
    .option("--bottle", "for the bottle, kept across stop and resume (the default)", false)
    .option("--methods <list>", "narrow to these methods (GET,HEAD)")
    .option("--paths <list>", "narrow to these path prefixes (/v1/,/simple/)")
    .option("--internal", "let the host name resolve to an internal address (flagged)", false)
    .option("-y, --yes", "do not ask for confirmation", false)
    .option(
      "--restart",
      "an image change: restart the running bottle on its new image now, without asking",
      false,
    )
    .addHelpText(
      "after",
      [
        "",
        "The grant is the request, narrowed by --methods/--paths (never widened), in force at once in a",
        "running bottle, or from the next resume of a stopped one. Risk flags are computed by",
        "bot-bottle (credential hosts, wildcards, internal addresses, writes to a read-only host, paste",
        "and capture services, unusual ports), never taken from the agent's reason. If the agent",
        "widens the request while you look at it, the approval is refused and shown again.",
        "",
        "Examples:",
        `  ${commandLines.approve("r-1a2b3c")}`,
        `  ${commandLines.approve("r-1a2b3c", { scope: "once" })}`,
        `  ${commandLines.approve("dev-k3x9q2/r-1a2b3c", { scope: "for", duration: "1h", methods: ["GET", "HEAD"], paths: ["/simple/"] })}`,
        "",
        "An image change is shown as a diff of the bottle's image recipe with its risk flags (a",
        "download piped to a shell, a new package source, setuid bits, proxy or CA variables, TLS",
        "verification off). Approved, it is stored in state/<identity>/image/ and the bottle waits",
        "for a rebuild: --restart (or yes to the question) builds the new image while the bottle",
        "runs, then restarts it on it with the same identity, workspace and conversation; otherwise",
        "the next resume builds it. A failed build leaves the bottle on its old image and tells the",
        "agent why.",
        `  ${commandLines.approve("dev-k3x9q2/r-1a2b3c", { yes: true, restart: true })}`,
      ].join("\n"),
    )
    .action(async (reference: string, opts: ApproveOptions) => {
      setExitCode(await approveCommand(reference, opts, ctx));
    });

  program
    .command("deny")
    .description("Deny a request; the reason goes back to the agent")
    .argument("<request>", "request id (r-1a2b3c), or <identity>/<id>")
    .option("--reason <text>", "why, and what to do instead (the agent reads it)")
    .addHelpText(
      "after",
      `\nExamples:\n  ${commandLines.deny("r-1a2b3c")}\n  ${commandLines.deny("r-1a2b3c", "use the registry mirror instead")}`,
    )
    .action((reference: string, opts: { reason?: string }) => {
      denyCommand(reference, opts, ctx);
    });
}
