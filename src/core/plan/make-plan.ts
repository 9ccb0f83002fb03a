/**
 * Resolves (manifest, agent, options, host facts) into a BottlePlan. Pure: no file, process,
 * network or engine is touched; everything the plan needs from the host arrives in HostFacts.
 */
import { BottleError } from "../errors.js";
import { didYouMean } from "../manifest/did-you-mean.js";
import type { BottleSpec, CredentialSpec, EgressRuleSpec, Manifest } from "../manifest/schema.js";
import { FORWARD_PATTERN } from "../manifest/schema.js";
import { expandPath, skillDir } from "../host/paths.js";
import { providerSpec } from "./provider-spec.js";
import { appendedPrompt } from "./supervise-note.js";
import { TOKEN_PLACEHOLDER, PLACEHOLDER_KEY } from "./placeholders.js";
import type { BottlePlan, EnvSource, PlanEgressRule } from "./bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "./bottle-plan.js";
import { PLAN_VERSION } from "./bottle-plan.js";
import {
  CA_CERT_PATH,
  GATES,
  LABELS,
  SOCKET_DIR,
  SYSTEM_CA_BUNDLE,
  WORKSPACE_DIR,
  objectName,
} from "./layout.js";
import type { EngineFacts } from "./runtime.js";
import { resolveRuntime } from "./runtime.js";
import { parseSize } from "./units.js";
import { knownHostsName, matchWorkspaceRemotes, pinnedFor } from "./git-remotes.js";
import path from "node:path";
import { SIDECAR_RECIPE } from "../../images/image-context.js";
import { builtinDenyFor } from "../policy/builtin-deny.js";

export interface PlanOptions {
  agent: string;
  /** Absolute path of a host folder to copy into the workspace (`--cwd`). */
  copyFrom?: string;
}

export interface HostFacts {
  home: string;
  manifestPath: string;
  /** Names of the host environment variables that are set. Values are not part of planning. */
  envNames: ReadonlySet<string>;
  /** What is known of the engine; undefined when it was not asked (dry run) and no config told. */
  engine: EngineFacts | undefined;
  /** BASE_IMAGE when the manifest names none. */
  defaultBase: string;
  /** Content hash of each image recipe (folder under images/ or a manifest Dockerfile path). */
  recipeHashes: Readonly<Record<string, string>>;
  /** Random suffix of the new identity, chosen by the caller so planning stays deterministic. */
  identitySuffix: string;
  /** Remotes of the `--cwd` repository (none without `--cwd` or outside a repository). */
  workspaceRemotes: readonly { name: string; url: string }[];
  /** Known_hosts names (`host`, `[host]:port`) that the operator's known_hosts files hold a key for. */
  knownHosts: ReadonlySet<string>;
}

const DEFAULT_PORTS = [443, 80];

function planRule(rule: EgressRuleSpec, bottle: BottleSpec): PlanEgressRule {
  if (typeof rule === "string") {
    return {
      host: rule.toLowerCase(),
      ports: DEFAULT_PORTS,
      methods: null,
      paths: null,
      tls: bottle.egress.tls,
      internal: false,
      source: "manifest",
      ...PLAN_RULE_PROVENANCE,
    };
  }
  return {
    host: rule.host.toLowerCase(),
    ports: rule.ports ?? DEFAULT_PORTS,
    methods: rule.methods ?? null,
    paths: rule.paths ?? null,
    tls: rule.tls ?? bottle.egress.tls,
    internal: rule.internal ?? false,
    source: "manifest",
    ...PLAN_RULE_PROVENANCE,
  };
}

function injectionOf(cred: CredentialSpec): string {
  if (cred.inject === undefined) return cred.role === "anthropic-base-url" ? "x-api-key" : "bearer";
  return typeof cred.inject === "string" ? cred.inject : `header:${cred.inject.header}`;
}

function relayUrl(port: number, routePath = ""): string {
  return `http://127.0.0.1:${port}${routePath}`;
}

/** Environment the bottle itself sets: proxies, CA bundle, and where each credential role points. */
function bottleEnv(bottle: BottleSpec): Record<string, EnvSource> {
  const proxy = relayUrl(GATES.egress.port);
  const env: Record<string, EnvSource> = {
    HTTPS_PROXY: { from_bottle: proxy },
    HTTP_PROXY: { from_bottle: proxy },
    https_proxy: { from_bottle: proxy },
    http_proxy: { from_bottle: proxy },
    // Loopback only: in a container with no network, 127.0.0.1 reaches nothing but the relay's
    // ports, that is, the gates themselves (the credential route must not go through egress).
    NO_PROXY: { from_bottle: "127.0.0.1,localhost" },
    no_proxy: { from_bottle: "127.0.0.1,localhost" },
    // The bottle's CA is added to the system bundle at start; these make every client use it.
    NODE_EXTRA_CA_CERTS: { from_bottle: CA_CERT_PATH },
    SSL_CERT_FILE: { from_bottle: SYSTEM_CA_BUNDLE },
    REQUESTS_CA_BUNDLE: { from_bottle: SYSTEM_CA_BUNDLE },
    GIT_SSL_CAINFO: { from_bottle: SYSTEM_CA_BUNDLE },
    NODE_OPTIONS: { from_bottle: "--require /opt/bot-bottle/proxy-preload.cjs" },
  };
  for (const cred of bottle.credentials) {
    const url = relayUrl(GATES.credentials.port, cred.path);
    if (cred.role === "anthropic-base-url") {
      env["ANTHROPIC_BASE_URL"] = { from_bottle: url };
      env["ANTHROPIC_API_KEY"] = { from_bottle: PLACEHOLDER_KEY };
      env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = { from_bottle: "1" };
    } else if (cred.role === "openai-base-url") {
      env["OPENAI_BASE_URL"] = { from_bottle: url };
      env["OPENAI_API_KEY"] = { from_bottle: TOKEN_PLACEHOLDER };
    }
  }
  return env;
}

export function makePlan(manifest: Manifest, options: PlanOptions, facts: HostFacts): BottlePlan {
  const agent = manifest.agents[options.agent];
  if (agent === undefined) {
    const known = Object.keys(manifest.agents);
    const suggestion = didYouMean(options.agent, known);
    throw new BottleError(
      "agent_unknown",
      `No agent "${options.agent}" in ${facts.manifestPath}.`,
      {
        hint: `${suggestion === undefined ? "" : `Did you mean "${suggestion}"? `}Agents defined: ${known.join(", ")}.`,
      },
    );
  }
  const bottle = manifest.bottles[agent.bottle];
  if (bottle === undefined) {
    // The schema guarantees this; kept as a clear failure rather than a crash.
    throw new BottleError(
      "manifest_invalid",
      `Agent "${options.agent}" names an undefined bottle "${agent.bottle}".`,
    );
  }
  const provider = providerSpec(agent.provider);
  const identity = `${options.agent}-${facts.identitySuffix}`;
  const manifestDir = path.dirname(facts.manifestPath);
  const warnings: string[] = [];

  const agentRecipe =
    bottle.image.dockerfile === undefined
      ? `images/${provider.recipe}/Dockerfile`
      : expandPath(bottle.image.dockerfile, facts.home, manifestDir);
  const base = bottle.image.base ?? facts.defaultBase;
  const tagFor = (role: string, recipe: string): string => {
    const hash = facts.recipeHashes[recipe];
    if (hash === undefined)
      warnings.push(`image recipe ${recipe} was not found; it cannot be built`);
    return `bot-bottle/${role}:${(hash ?? "missing").slice(0, 12)}`;
  };

  const env: Record<string, EnvSource> = { ...bottleEnv(bottle) };
  for (const [name, value] of Object.entries(agent.env)) {
    const forwarded = FORWARD_PATTERN.exec(value)?.[1];
    if (forwarded === undefined) env[name] = { value };
    else {
      env[name] = { from_host: forwarded };
      if (!facts.envNames.has(forwarded))
        warnings.push(`env ${name} forwards $${forwarded}, which is not set on the host`);
    }
  }

  const tokenSource = (token: CredentialSpec["token"]) =>
    "env" in token ? { env: token.env } : { file: expandPath(token.file, facts.home, manifestDir) };
  const credentials = bottle.credentials.map((cred) => {
    if ("env" in cred.token && !facts.envNames.has(cred.token.env)) {
      warnings.push(
        `credential ${cred.name} reads $${cred.token.env}, which is not set on the host`,
      );
    }
    return {
      name: cred.name,
      path: cred.path,
      upstream: cred.upstream,
      role: cred.role ?? null,
      inject: injectionOf(cred),
      token_source: tokenSource(cred.token),
    };
  });
  if (
    provider.modelRole !== undefined &&
    !bottle.credentials.some((c) => c.role === provider.modelRole)
  ) {
    warnings.push(
      `${provider.title} needs a credential with role ${provider.modelRole}; without one it cannot reach its model`,
    );
  }

  for (const entry of bottle.git) {
    if (entry.token !== undefined && "env" in entry.token && !facts.envNames.has(entry.token.env)) {
      warnings.push(`git ${entry.name} reads $${entry.token.env}, which is not set on the host`);
    }
    const host = knownHostsName(entry.upstream);
    const pinned = entry.host_keys ?? [];
    const known =
      host === null || (pinned.length > 0 ? pinnedFor(pinned, host) : facts.knownHosts.has(host));
    if (!known) {
      const where =
        pinned.length > 0 ? "its host_keys" : (entry.known_hosts ?? "~/.ssh/known_hosts");
      warnings.push(
        `git ${entry.name}: ${where} has no key for ${host}, so the gate will refuse it; check the host's fingerprint, then add its key (ssh-keyscan) or pin it in host_keys`,
      );
    }
  }

  const prompt = appendedPrompt(agent.prompt, bottle.supervise);
  const command = [
    ...provider.command,
    ...(prompt !== undefined && provider.promptArgs !== undefined
      ? provider.promptArgs(prompt)
      : []),
  ];
  const providerRules = provider.egress.map((rule) => ({
    ...rule,
    source: `provider:${provider.name}`,
    ...PLAN_RULE_PROVENANCE,
  }));
  const sockets = objectName(identity, "sockets");

  return {
    plan_version: PLAN_VERSION,
    identity,
    agent: options.agent,
    bottle: agent.bottle,
    provider: provider.name,
    manifest: facts.manifestPath,
    command,
    resume_command: [...command, ...provider.resumeArgs],
    skills: agent.skills.map((name) => ({ name, from: skillDir(facts.home, name) })),
    runtime: resolveRuntime(bottle.runtime, facts.engine),
    images: {
      agent: {
        role: "agent",
        dockerfile: agentRecipe,
        base,
        tag: tagFor(`agent-${provider.name}`, agentRecipe),
      },
      sidecar: {
        role: "sidecar",
        dockerfile: SIDECAR_RECIPE,
        base: facts.defaultBase,
        tag: tagFor("sidecar", SIDECAR_RECIPE),
      },
    },
    resources: {
      memory_bytes: parseSize(bottle.resources.memory),
      nano_cpus: Math.round(bottle.resources.cpus * 1e9),
      pids: bottle.resources.pids,
    },
    egress: {
      default: "deny",
      tls: bottle.egress.tls,
      dlp: bottle.egress.dlp,
      allow: [...bottle.egress.allow.map((rule) => planRule(rule, bottle)), ...providerRules],
      deny: [
        ...new Set([
          ...bottle.egress.deny.map((host) => host.toLowerCase()),
          ...builtinDenyFor(
            bottle.egress.builtin_deny,
            bottle.egress.allow.map((rule) => (typeof rule === "string" ? rule : rule.host)),
          ),
        ]),
      ],
    },
    credentials,
    git: bottle.git.map((entry) => ({
      name: entry.name,
      upstream: entry.upstream,
      identity_file:
        entry.identity_file === undefined
          ? null
          : expandPath(entry.identity_file, facts.home, manifestDir),
      token_source: entry.token === undefined ? null : tokenSource(entry.token),
      known_hosts: expandPath(entry.known_hosts ?? "~/.ssh/known_hosts", facts.home, manifestDir),
      host_keys: entry.host_keys ?? [],
      push: {
        branches: entry.push.branches.map((branch) => branch.replaceAll("{identity}", identity)),
        force: entry.push.force,
        delete: entry.push.delete,
        max_size_bytes: parseSize(entry.push.max_size),
      },
    })),
    env,
    supervise: bottle.supervise,
    network: { agent: "none", sidecar: objectName(identity, "net") },
    mounts: [{ type: "volume", name: sockets, target: SOCKET_DIR, in: ["agent", "sidecar"] }],
    containers: { agent: objectName(identity, "agent"), sidecar: objectName(identity, "sidecar") },
    labels: {
      [LABELS.identity]: identity,
      [LABELS.agent]: options.agent,
      [LABELS.bottle]: agent.bottle,
    },
    workspace: {
      path: WORKSPACE_DIR,
      copy_from: options.copyFrom ?? null,
      remotes:
        options.copyFrom === undefined
          ? []
          : matchWorkspaceRemotes(facts.workspaceRemotes, bottle.git),
    },
    warnings,
  };
}
