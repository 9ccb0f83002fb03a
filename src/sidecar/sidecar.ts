/**
 * One bottle's sidecar: the gates on unix sockets in the shared socket folder, the control API in
 * the state folder. An object with start() and stop(); main.ts runs one.
 *
 * Gates: the egress proxy (with TLS interception under the bottle's CA and the content checks),
 * the credential proxy, and the git gate when the bottle has repositories (its mirrors in the
 * state folder's git/, its keys in a private folder of the sidecar's own). The egress rules in
 * force live here (live-policy.ts: set at start from policy.json when the operator changed them,
 * else from sidecar.json), changed by the operator's edits through the control API and by spent
 * `once` rules; the sidecar is policy.json's only writer while it runs. The tokens and keys arrive over
 * the control API too (PUT /secrets), are held in memory only (keys: in the gate's private
 * folder), and from then on are used by the gates and looked for by the content checks in
 * everything the agent sends out, pushes included. Until they arrive (a fresh start, or the
 * container restarted outside the CLI) every gate refuses every connection with 503 and health
 * says "degraded: waiting for secrets"; the host's keeper hands them over again.
 */
import { BUFFERED_BYTES } from "../core/contract/sidecar-limits.js";
import { BufferBudget } from "./shared/buffer-budget.js";
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { GATES } from "../core/plan/layout.js";
import type { BottleCa } from "../core/tls/bottle-ca.js";
import { caFiles } from "../core/tls/bottle-ca.js";
import { ControlServer } from "./control-server.js";
import type { GateGuard, ListenTarget } from "./shared/gate-listen.js";
import { AuditLog } from "./shared/audit-log.js";
import type { AuditEntry } from "./egress/egress-audit-entry.js";
import { decideEgress } from "./egress/egress-policy.js";
import { LivePolicy } from "./live-policy.js";
import { requestsDir } from "../core/requests/request-store.js";
import type { SuperviseAuditEntry } from "./supervise/supervise-gate.js";
import { SuperviseGate } from "./supervise/supervise-gate.js";
import { EgressProxy } from "./egress/egress-proxy.js";
import { InternalRanges } from "./egress/ip-address.js";
import { BackgroundScanner } from "./dlp/background-scanner.js";
import { DlpInspector } from "./dlp/dlp-inspector.js";
import type { CredentialAuditEntry } from "./credentials/credential-proxy.js";
import { CredentialProxy } from "./credentials/credential-proxy.js";
import { TOKEN_PLACEHOLDER, PLACEHOLDER_KEY } from "../core/plan/placeholders.js";
import type { GitAuditEntry } from "./git/git-audit.js";
import { redactGitAuditEntry } from "./git/git-audit-redaction.js";
import { GitGate } from "./git/git-gate.js";
import { UpstreamCredentials } from "./git/upstream-credentials.js";
import type { SidecarConfig, SidecarSecrets } from "./sidecar-config.js";

export { POLICY_FILE } from "../core/contract/saved-rules.js";

/** What every gate answers (503) while the sidecar has no secrets (fresh start or restart). */
export const WAITING_FOR_SECRETS =
  "bot-bottle: the sidecar is waiting for its secrets from the host and refuses everything until then; retry shortly (`bottle list` shows its health)";

/** The bottle's CA, made by the host at the first start (ca/ in the state folder). */
function readCa(config: SidecarConfig): BottleCa {
  const files = caFiles(config.state_dir);
  return {
    certPem: fs.readFileSync(files.cert, "utf8"),
    keyPem: fs.readFileSync(files.key, "utf8"),
  };
}

/** Every token and key the bottle's gates hold: what the content checks must never let out. */
function secretValues(secrets: SidecarSecrets): string[] {
  const values = Object.values(secrets.credentials);
  for (const entry of Object.values(secrets.git)) {
    if (entry.token !== undefined) values.push(entry.token);
    if (entry.identityKey !== undefined) {
      // A key's base64 body lines: any one of them leaving is the key leaving.
      values.push(
        ...entry.identityKey
          .split("\n")
          .filter((line) => line.length >= 40 && !line.startsWith("-----")),
      );
    }
  }
  return values;
}

/** Values the bottle gives the agent in place of secrets: never findings. */
const PLACEHOLDERS = [PLACEHOLDER_KEY, TOKEN_PLACEHOLDER];

export class Sidecar {
  /** Request bodies held in memory across every gate (BUFFERED_BYTES). */
  private readonly budget = new BufferBudget(BUFFERED_BYTES);
  /** The egress rules in force; the sidecar is policy.json's only writer while it runs. */
  private readonly policy: LivePolicy;
  /** Null until the host hands the secrets over: until then every gate refuses everything. */
  private secrets: SidecarSecrets | null = null;
  private readonly guard: GateGuard = {
    refusal: () => (this.secrets === null ? WAITING_FOR_SECRETS : undefined),
  };
  private dlp = new DlpInspector({ ownSecrets: [], placeholders: PLACEHOLDERS });
  private readonly audit: AuditLog<AuditEntry>;
  private readonly egress: EgressProxy;
  private readonly credentials: CredentialProxy;
  private readonly credentialAudit: AuditLog<CredentialAuditEntry>;
  private readonly control: ControlServer;
  private readonly supervise: { gate: SuperviseGate; audit: AuditLog<SuperviseAuditEntry> } | null;
  private readonly git: {
    gate: GitGate;
    credentials: UpstreamCredentials;
    audit: AuditLog<GitAuditEntry>;
    /** The content checks of pushes, in a worker thread. */
    scanner: BackgroundScanner;
  } | null;

  constructor(private readonly config: SidecarConfig) {
    this.policy = new LivePolicy(config.state_dir, config.egress);
    this.audit = new AuditLog<AuditEntry>(path.join(config.state_dir, "audit", "egress.jsonl"));
    const ranges = new InternalRanges();
    // Extra roots are added to the system's, never in place of them.
    const upstreamCa =
      config.upstream_ca.length > 0 ? [...tls.rootCertificates, ...config.upstream_ca] : undefined;
    this.egress = new EgressProxy({
      budget: this.budget,
      decide: (request) => decideEgress(this.policy.current(), request, ranges, new Date()),
      // A once rule is spent by the request that goes out, after its checks, not by the decision.
      spend: (rule) => this.policy.spend(rule),
      supervise: config.supervise,
      ca: readCa(config),
      ...(upstreamCa === undefined ? {} : { upstreamCa }),
      dlp: config.dlp,
      // Delegates, so that secrets handed over later are checked from the next request on.
      inspector: {
        inspectHost: (host) => this.dlp.inspectHost(host),
        inspectRequest: (request) => this.dlp.inspectRequest(request),
        newWebSocketScanner: () => this.dlp.newWebSocketScanner(),
      },
      audit: (entry) => {
        this.audit.write(entry);
      },
    });
    this.credentialAudit = new AuditLog<CredentialAuditEntry>(
      path.join(config.state_dir, "audit", "credentials.jsonl"),
    );
    this.credentials = new CredentialProxy({
      budget: this.budget,
      routes: config.credentials,
      audit: (entry) => {
        this.credentialAudit.write(entry);
      },
      ...(upstreamCa === undefined ? {} : { upstreamCa }),
    });
    this.git = config.git.length === 0 ? null : this.makeGitGate(upstreamCa);
    this.supervise = config.supervise ? this.makeSuperviseGate() : null;
    this.control = new ControlServer({
      health: () => ({
        ok: this.secrets !== null,
        state: this.secrets === null ? "degraded: waiting for secrets" : "ready",
        identity: config.identity,
        gates: [
          "egress",
          "credentials",
          ...(this.git === null ? [] : ["git"]),
          ...(this.supervise?.gate.serving() === true ? ["supervise"] : []),
        ],
        once_consumed: this.policy.onceConsumed(),
      }),
      setSecrets: (secrets) => {
        this.secrets = secrets;
        this.credentials.setTokens(secrets.credentials);
        this.credentials.setOwnSecrets(secretValues(secrets));
        this.git?.credentials.set(secrets.git);
        const dlp = { ownSecrets: secretValues(secrets), placeholders: PLACEHOLDERS };
        this.dlp = new DlpInspector(dlp);
        this.git?.scanner.setOptions(dlp);
      },
      getPolicy: () => this.policy.current(),
      editPolicy: (edit) => this.policy.edit(edit),
      savePolicy: () => {
        this.policy.save();
      },
      setPushBranches: (branches) => {
        if (this.git === null) throw new Error("this bottle has no git entries");
        this.git.gate.setPushBranches(branches);
      },
    });
  }

  private makeSuperviseGate(): NonNullable<Sidecar["supervise"]> {
    const { config } = this;
    const audit = new AuditLog<SuperviseAuditEntry>(
      path.join(config.state_dir, "audit", "supervise.jsonl"),
    );
    const gate = new SuperviseGate({
      identity: config.identity,
      requestsDir: requestsDir(config.state_dir),
      egressAuditFile: path.join(config.state_dir, "audit", "egress.jsonl"),
      rules: () => this.policy.current(),
      gitEntries: config.git.map((entry) => entry.name),
      audit: (entry) => {
        audit.write(entry);
      },
      now: () => new Date(),
    });
    return { gate, audit };
  }

  private makeGitGate(upstreamCa: string[] | undefined): NonNullable<Sidecar["git"]> {
    const { config } = this;
    const credentials = new UpstreamCredentials(
      Object.fromEntries(config.git.map((entry) => [entry.name, entry.known_hosts])),
      upstreamCa?.join("\n"),
    );
    const audit = new AuditLog<GitAuditEntry>(path.join(config.state_dir, "audit", "git.jsonl"));
    const scanner = new BackgroundScanner({ ownSecrets: [], placeholders: PLACEHOLDERS });
    const gate = new GitGate({
      repos: config.git,
      mirrorDir: path.join(config.state_dir, "git"),
      upstreamEnv: (name) => credentials.env(name),
      scan: (text, where) => scanner.scan(text, where),
      dlp: config.dlp,
      // Ref names and paths are the agent's: checked like the egress log's fields before writing.
      audit: (entry) => {
        audit.write(redactGitAuditEntry(entry, this.dlp));
      },
    });
    return { gate, credentials, audit, scanner };
  }

  /** Names of the secrets held (never their values), for health and tests. */
  secretNames(): string[] {
    if (this.secrets === null) return [];
    return [...Object.keys(this.secrets.credentials), ...Object.keys(this.secrets.git)];
  }

  async start(): Promise<void> {
    const at = (socket: string): ListenTarget => ({
      path: path.join(this.config.socket_dir, socket),
      guard: this.guard,
    });
    await this.egress.listen(at(GATES.egress.socket));
    await this.credentials.listen(at(GATES.credentials.socket));
    await this.git?.gate.listen(at(GATES.git.socket));
    await this.supervise?.gate.listen(at(GATES.supervise.socket));
    await this.control.listen({
      path: path.join(this.config.state_dir, "control", "control.sock"),
      mode: 0o600,
    });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([
      this.egress.stop(),
      this.credentials.stop(),
      this.control.stop(),
      this.git?.gate.stop(),
      this.supervise?.gate.stop(),
    ]);
    this.git?.credentials.close();
    await Promise.allSettled([
      this.git?.scanner.close(),
      this.audit.close(),
      this.credentialAudit.close(),
      this.git?.audit.close(),
      this.supervise?.audit.close(),
    ]);
  }
}
