/**
 * The BottlePlan: everything a start will do, resolved before anything is created. Rendered by
 * the preflight summary and by `start --dry-run --format json`.
 *
 * The JSON form is a stable interface (docs/plan-json.md): keys may be added; renaming or
 * removing one is a breaking change and bumps `plan_version`.
 */

export const PLAN_VERSION = 1;

export type RuntimeName = "runc" | "runsc";

export interface PlanEgressRule {
  host: string;
  ports: number[];
  /** Upper-case methods, or null for any. */
  methods: string[] | null;
  /** Path prefixes, or null for any. */
  paths: string[] | null;
  tls: "intercept" | "passthrough";
  /** The name may resolve to an internal address (an IP literal rule names its own address). */
  internal: boolean;
  /**
   * `manifest`, `provider:<name>` for hosts the agent program itself needs, `operator` for a rule
   * added with `bottle policy allow`, `request` for one approved from an agent's request.
   */
  source: string;
  /** The supervise request it was approved from, or null. */
  request_id: string | null;
  /** Who added it (`cli:<user>`, `dashboard:<user>`), or null for the plan's own rules. */
  added_by: string | null;
  /** When it was added (ISO), or null for the plan's own rules. */
  added_at: string | null;
  /** When it stops matching (ISO; the sidecar enforces it), or null for never. */
  expires_at: string | null;
  /** True: the first request or tunnel it lets through consumes it (the sidecar removes it). */
  once: boolean;
}

/** The provenance of a rule the plan itself makes (manifest, provider): none, never expiring. */
export const PLAN_RULE_PROVENANCE = {
  request_id: null,
  added_by: null,
  added_at: null,
  expires_at: null,
  once: false,
} as const satisfies Pick<
  PlanEgressRule,
  "request_id" | "added_by" | "added_at" | "expires_at" | "once"
>;

export interface PlanImage {
  role: "agent" | "sidecar";
  /** Image recipe: a folder under images/, or the manifest's own Dockerfile. */
  dockerfile: string;
  /** BASE_IMAGE build argument. */
  base: string;
  /** Tag derived from the recipe's content hash: the same content is never built twice. */
  tag: string;
}

export type EnvSource = { value: string } | { from_host: string } | { from_bottle: string };

export interface BottlePlan {
  plan_version: number;
  identity: string;
  agent: string;
  bottle: string;
  provider: string;
  manifest: string;
  command: string[];
  /** The command a resumed bottle runs: the same program, continuing its last conversation. */
  resume_command: string[];
  /** Skills copied from the host into the agent's ~/.claude/skills. */
  skills: { name: string; from: string }[];
  runtime: {
    requested: "auto" | "runc" | "runsc";
    resolved: RuntimeName;
    /** What the decision rests on: the manifest, the engine, the daemon config, or a default. */
    decided_by: "manifest" | "engine" | "daemon-config" | "default";
  };
  images: { agent: PlanImage; sidecar: PlanImage };
  resources: { memory_bytes: number; nano_cpus: number; pids: number };
  egress: {
    default: "deny";
    tls: "intercept" | "passthrough";
    dlp: "block" | "warn" | "off";
    allow: PlanEgressRule[];
    deny: string[];
  };
  credentials: {
    name: string;
    path: string;
    upstream: string;
    role: string | null;
    inject: string;
    /** Where the token is read on the host: an env var name or a file path, never the value. */
    token_source: { env: string } | { file: string };
  }[];
  git: {
    name: string;
    upstream: string;
    identity_file: string | null;
    /** Where an https upstream's token is read on the host, never the value; null for SSH. */
    token_source: { env: string } | { file: string } | null;
    /** The known_hosts file read at start (unless host_keys are pinned). */
    known_hosts: string;
    /** known_hosts lines pinned in the manifest; when non-empty, the file is not read. */
    host_keys: string[];
    push: { branches: string[]; force: boolean; delete: boolean; max_size_bytes: number };
  }[];
  /** The agent's environment. Values forwarded from the host are named, never shown. */
  env: Record<string, EnvSource>;
  supervise: boolean;
  network: { agent: "none"; sidecar: string };
  mounts: { type: "volume"; name: string; target: string; in: ("agent" | "sidecar")[] }[];
  containers: { agent: string; sidecar: string };
  labels: Record<string, string>;
  workspace: {
    path: string;
    copy_from: string | null;
    /** Remotes of the copied repository that go through the git gate: set to the entry's upstream. */
    remotes: { remote: string; entry: string; url: string }[];
  };
  /** Things that will make the real start fail or behave unexpectedly. */
  warnings: string[];
}
