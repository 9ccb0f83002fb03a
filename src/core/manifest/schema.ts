/**
 * The bottle manifest: one zod schema, the single source of truth. The TypeScript types are
 * inferred from it and the committed JSON Schema (schema/bottle.schema.json) is generated from it.
 *
 * Checks that need only the manifest itself live here (refinements). Checks that need the host
 * (does a skill or an identity file exist?) live in host-checks.ts.
 */
import { z } from "zod";
import { parseHostPattern } from "../policy/domain-pattern.js";

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `${NAME}` as a whole value forwards the host variable NAME. */
export const FORWARD_PATTERN = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const SIZE_PATTERN = /^[0-9]+(\.[0-9]+)?[kmgKMG]?$/;

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, {
    message: `${what} names are lower-case letters, digits and dashes, start with a letter, and have at most 31 characters`,
  });

const hostPattern = z
  .string()
  .describe(
    "A host: `example.com` (exact), `*.example.com` (any subdomain, not the apex), or an IP literal.",
  )
  .superRefine((value, ctx) => {
    const result = parseHostPattern(value);
    if (!result.ok) ctx.addIssue({ code: "custom", message: `host pattern ${result.reason}` });
  });

const tlsMode = z
  .enum(["intercept", "passthrough"])
  .describe(
    "`intercept`: TLS is opened under the bottle's CA so paths, methods and bodies are checked. `passthrough`: tunnelled untouched (host and port checks only).",
  );

const httpMethod = z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const egressRule = z.union([
  hostPattern,
  z
    .strictObject({
      host: hostPattern,
      ports: z
        .array(z.int().min(1).max(65535))
        .min(1)
        .optional()
        .describe("Ports allowed for this host. Default: 443 and 80."),
      methods: z
        .array(httpMethod)
        .min(1)
        .optional()
        .describe("HTTP methods allowed (enforced when the request is intercepted). Default: all."),
      paths: z
        .array(z.string().startsWith("/", { message: "a path prefix must start with /" }))
        .min(1)
        .optional()
        .describe("Path prefixes allowed (enforced when intercepted). Default: all."),
      tls: tlsMode.optional().describe("Overrides the bottle's `egress.tls` for this host."),
      internal: z
        .boolean()
        .optional()
        .describe(
          "Let this host name resolve to an internal address (loopback, private, link-local). Default false: such answers are refused, so DNS cannot point an allowed name at the inside. An IP literal rule names its address and needs no flag.",
        ),
    })
    .describe("A rule with conditions beyond the host."),
]);

const egress = z
  .strictObject({
    allow: z
      .array(egressRule)
      .default([])
      .describe("Hosts the agent may reach. Everything else is denied."),
    deny: z
      .array(hostPattern)
      .default([])
      .describe(
        "Hosts always denied, even when an allow rule covers them (deny wins). Added to the built-in list.",
      ),
    builtin_deny: z
      .boolean()
      .default(true)
      .describe(
        "Deny the built-in list of paste sites, file drops, request catchers and tunnels (pastebin.com, transfer.sh, webhook.site, *.ngrok.io, interact.sh, ...; src/core/policy/builtin-deny.ts). Default true. To reach one of them, name it exactly in `allow` (e.g. `allow: [pastebin.com]`; a wildcard does not lift it); `false` drops the whole list.",
      ),
    tls: tlsMode.default("intercept").describe("Default TLS handling for allowed hosts."),
    dlp: z
      .enum(["block", "warn", "off"])
      .default("block")
      .describe(
        "What a secret found in an outbound request does: block it, only log it, or nothing.",
      ),
  })
  .describe("The egress proxy's policy: deny by default.");

const tokenSource = z
  .union([
    z.strictObject({
      env: z
        .string()
        .regex(ENV_NAME_PATTERN)
        .describe("Host environment variable holding the token."),
    }),
    z.strictObject({
      file: z.string().min(1).describe("Host file holding the token (trailing newline ignored)."),
    }),
  ])
  .describe(
    "Where the host keeps the token. The value is read at start and never enters the agent.",
  );

export const CREDENTIAL_ROLES = [
  "anthropic-base-url",
  "openai-base-url",
  "npm-registry",
  "git-https",
] as const;

const credential = z
  .strictObject({
    name: name("credential").describe("Name of the route, unique in the bottle."),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, {
        message: "a route path must look like /name (letters, digits, . _ ~ -)",
      })
      .describe("Path prefix of the route, as the agent sees it through the relay."),
    upstream: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .describe("Base URL the route forwards to, with the token injected."),
    token: tokenSource,
    role: z
      .enum(CREDENTIAL_ROLES)
      .optional()
      .describe(
        "How the agent is pointed at the route (for example ANTHROPIC_BASE_URL). At most once per bottle.",
      ),
    inject: z
      .union([
        z
          .enum(["x-api-key", "bearer", "chatgpt"])
          .describe(
            "chatgpt: a ChatGPT login for the Codex CLI; the token is its access token, or Codex's auth.json (token: {file: ~/.codex/auth.json}), sent as a bearer token with its account id.",
          ),
        z.strictObject({
          header: z
            .string()
            .regex(/^[A-Za-z0-9-]+$/)
            .describe("Header that carries the raw token."),
        }),
      ])
      .optional()
      .describe(
        "How the token is sent upstream. Default follows the role (x-api-key for Anthropic API keys, bearer otherwise).",
      ),
  })
  .describe(
    "A credential route: the sidecar holds the token and injects it; the agent holds a placeholder.",
  );

const size = z.string().regex(SIZE_PATTERN, { message: "a size looks like 512m, 4g or 1048576" });

const gitEntry = z
  .strictObject({
    name: name("git entry").describe("Name of the entry, unique in the bottle."),
    upstream: z
      .string()
      .regex(/^(ssh:\/\/|https:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)/, {
        message: "must be an SSH URL (git@host:path or ssh://...) or an https:// URL",
      })
      .describe("The upstream repository, as the agent will name it."),
    identity_file: z
      .string()
      .optional()
      .describe("SSH private key on the host (`~` expands). Read by the sidecar only."),
    token: tokenSource.optional().describe("Token for an https upstream."),
    known_hosts: z
      .string()
      .optional()
      .describe(
        "known_hosts file to trust. Default: the host's ~/.ssh/known_hosts. Unknown host keys are refused.",
      ),
    host_keys: z
      .array(
        z.string().regex(/^\S+ (ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+/, {
          message: "a host key is a known_hosts line: `<host> <key type> <base64 key>`",
        }),
      )
      .optional()
      .describe(
        "Host keys pinned here, as known_hosts lines (`github.com ssh-ed25519 AAAA...`); when set, the known_hosts file is not read.",
      ),
    push: z
      .strictObject({
        branches: z
          .array(z.string().min(1))
          .default(["bottle/{identity}/*"])
          .describe("Branch patterns the agent may update; `{identity}` is the bottle's identity."),
        force: z.boolean().default(false).describe("Allow non-fast-forward pushes."),
        delete: z.boolean().default(false).describe("Allow deleting branches."),
        max_size: size.default("100m").describe("Largest push accepted."),
      })
      .prefault({})
      .describe("What the agent may push."),
  })
  .describe("A repository reachable through the git gate, which holds the key and checks pushes.");

const bottle = z
  .strictObject({
    runtime: z
      .enum(["auto", "runc", "runsc"])
      .default("auto")
      .describe("Container runtime. `auto` uses gVisor (runsc) when the engine has it, else runc."),
    image: z
      .strictObject({
        dockerfile: z
          .string()
          .optional()
          .describe(
            "Dockerfile for the agent image, relative to the manifest. Default: the provider's.",
          ),
        base: z
          .string()
          .optional()
          .describe(
            "Base image build argument. Default: node:20-bookworm-slim, or $BOT_BOTTLE_BASE_IMAGE.",
          ),
      })
      .prefault({})
      .describe("How the agent image is built."),
    resources: z
      .strictObject({
        memory: size.default("4g").describe("Memory limit of the agent container."),
        cpus: z
          .number()
          .positive()
          .max(64)
          .default(2)
          .describe("CPU limit of the agent container."),
        pids: z
          .int()
          .min(32)
          .max(65536)
          .default(512)
          .describe(
            "Processes and threads the agent may run at once. Past it, the command that forks fails (\"fork: Resource temporarily unavailable\") and the bottle stays up. Under runsc it is the agent user's RLIMIT_NPROC (`ulimit -u`) and the container's pids cgroup is set to 2 x pids + 256, because gVisor's own threads count against the cgroup and a full one kills the whole sandbox; under runc it is the pids cgroup. 512 fits npm install, git push and a Claude Code session.",
          ),
      })
      .prefault({})
      .describe("Limits of the agent container."),
    egress: egress.prefault({}),
    credentials: z
      .array(credential)
      .default([])
      .describe("Credential routes: tokens the sidecar injects for the agent."),
    git: z
      .array(gitEntry)
      .default([])
      .describe("Repositories the agent reaches through the git gate."),
    supervise: z
      .boolean()
      .default(true)
      .describe(
        "Run the supervise MCP server (the sidecar's fourth gate, 127.0.0.1:3131/mcp in the agent) through which the agent asks the operator for more egress, push branches or an image change; the operator decides with `bottle requests`, `bottle approve` and `bottle deny`.",
      ),
  })
  .superRefine((value, ctx) => {
    const seenRoles = new Map<string, number>();
    value.credentials.forEach((cred, index) => {
      if (cred.role === undefined) return;
      const first = seenRoles.get(cred.role);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["credentials", index, "role"],
          message: `role "${cred.role}" is already taken by credentials[${first}]; a role appears at most once per bottle`,
        });
      } else seenRoles.set(cred.role, index);
    });
    reportDuplicates(
      ctx,
      value.credentials.map((c) => c.name),
      "credentials",
      "name",
    );
    reportDuplicates(
      ctx,
      value.credentials.map((c) => c.path),
      "credentials",
      "path",
    );
    reportDuplicates(
      ctx,
      value.git.map((g) => g.name),
      "git",
      "name",
    );
    value.git.forEach((entry, index) => {
      const isSsh = !entry.upstream.startsWith("https://");
      if (isSsh && entry.identity_file === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["git", index, "identity_file"],
          message: "an SSH upstream needs identity_file (the key the gate pushes with)",
        });
      }
    });
  })
  .describe("An isolated environment: runtime, image, limits and the gates out of it.");

function reportDuplicates(
  ctx: z.RefinementCtx,
  values: readonly string[],
  list: string,
  key: string,
): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) {
      ctx.addIssue({
        code: "custom",
        path: [list, index, key],
        message: `duplicate ${key} "${value}"`,
      });
    }
    seen.add(value);
  });
}

const agent = z
  .strictObject({
    bottle: name("bottle").describe("The bottle (under `bottles`) this agent runs in."),
    provider: z
      .enum(["claude", "codex", "shell"])
      .default("claude")
      .describe("The agent program: Claude Code, OpenAI Codex CLI, or an interactive shell."),
    prompt: z.string().optional().describe("Appended to the agent's system prompt."),
    skills: z
      .array(z.string().regex(/^[A-Za-z0-9._-]+$/, { message: "a skill is a folder name" }))
      .default([])
      .describe("Skills copied from the host's ~/.claude/skills/<name>."),
    env: z
      .record(
        z.string().regex(ENV_NAME_PATTERN, {
          message:
            "environment variable names are letters, digits and _, not starting with a digit",
        }),
        z
          .string()
          .regex(/^[^\n\r\0]*$/, {
            message: "an environment value must not contain a newline or NUL",
          })
          .refine((v) => !v.includes("${") || FORWARD_PATTERN.test(v), {
            message: "`${NAME}` forwards a host variable and must be the whole value",
          }),
      )
      .default({})
      .describe(
        "Environment of the agent. A value `${NAME}` forwards the host's NAME (never printed).",
      ),
  })
  .describe("An agent: which program, in which bottle, with which prompt, skills and environment.");

export const manifestSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of the JSON Schema, for editors."),
    version: z.literal(1).default(1).describe("Manifest format version."),
    agents: z
      .record(name("agent"), agent)
      .refine((agents) => Object.keys(agents).length > 0, { message: "define at least one agent" })
      .describe("Agents by name. `bottle start <name>` starts one."),
    bottles: z.record(name("bottle"), bottle).describe("Bottles by name."),
  })
  .superRefine((value, ctx) => {
    for (const [agentName, spec] of Object.entries(value.agents)) {
      if (!(spec.bottle in value.bottles)) {
        const known = Object.keys(value.bottles);
        ctx.addIssue({
          code: "custom",
          path: ["agents", agentName, "bottle"],
          message: `bottle "${spec.bottle}" is not defined under bottles${known.length > 0 ? ` (defined: ${known.join(", ")})` : ""}`,
        });
      }
    }
  })
  .describe("A bot-bottle manifest: agents, and the bottles they run in.");

export type Manifest = z.infer<typeof manifestSchema>;
export type AgentSpec = Manifest["agents"][string];
export type BottleSpec = Manifest["bottles"][string];
export type EgressRuleSpec = BottleSpec["egress"]["allow"][number];
export type CredentialSpec = BottleSpec["credentials"][number];
export type GitSpec = BottleSpec["git"][number];
export type TokenSource = CredentialSpec["token"];
export type Provider = AgentSpec["provider"];
