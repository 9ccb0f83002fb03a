/**
 * The sidecar's configuration, written by the host into the bottle's state folder
 * (`sidecar.json`) and read by the sidecar at start. Holds policy, never a secret.
 */
import type { SidecarConfigDocument } from "../core/contract/contract.js";
import type { PlanEgressRule } from "../core/plan/bottle-plan.js";
import type { CredentialRoute } from "./credentials/credential-routes.js";
import type { PushPolicy } from "./git/push-policy.js";

/** A repository behind the git gate: where it lives, what the agent may push, whom to trust. */
export interface SidecarGitEntry {
  name: string;
  upstream: string;
  push: PushPolicy;
  /** known_hosts lines the gate trusts for this upstream (public keys; may be empty). */
  known_hosts: string;
}

/** Where the bottle's state folder is mounted inside the sidecar container. */
export const SIDECAR_STATE_DIR = "/var/lib/bot-bottle";

export interface SidecarConfig {
  identity: string;
  /** Folder of the gate sockets, shared with the agent. */
  socket_dir: string;
  /** The bottle's state folder as the sidecar sees it (audit/, control/). */
  state_dir: string;
  egress: { allow: PlanEgressRule[]; deny: string[] };
  dlp: "block" | "warn" | "off";
  /** Credential routes, without their tokens (those come over the control socket). */
  credentials: CredentialRoute[];
  /** Repositories behind the git gate, without their keys or tokens (those come like tokens). */
  git: SidecarGitEntry[];
  /**
   * Extra roots the sidecar trusts for upstream TLS (PEM), besides the system's. Set from the
   * host's BOT_BOTTLE_UPSTREAM_CA file, for local upstreams with their own CA (tests, a private
   * registry). Certificates only, never a key.
   */
  upstream_ca: string[];
  /** Run the supervise gate (supervise.sock): the agent files requests, the operator decides. */
  supervise: boolean;
}

export const READY_LINE = "bot-bottle sidecar ready";

/** Secrets the host hands over after start (PUT /secrets): per credential route, per git entry. */
export type { SidecarSecrets } from "../core/contract/contract.js";

/** True when A and B have the same shape: keeps this file and the contract's schema in step. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const CONFIG_MATCHES_CONTRACT: Same<SidecarConfig, SidecarConfigDocument> = true;
