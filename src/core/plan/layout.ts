/**
 * Fixed places inside a bottle: where the gate sockets live and which loopback port the relay in
 * the agent container maps to each of them.
 */
import { createHash } from "node:crypto";

export const SOCKET_DIR = "/run/bot-bottle";
export const WORKSPACE_DIR = "/workspace";
/** The agent user's home (uid 1500 in every agent image). */
export const AGENT_HOME = "/home/agent";

/** The bottle's CA certificate in the agent, and the system bundle it is appended to. */
export const CA_CERT_PATH = "/usr/local/share/ca-certificates/bot-bottle.crt";
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export const GATES = {
  egress: { socket: "egress.sock", port: 3128 },
  credentials: { socket: "credentials.sock", port: 3129 },
  git: { socket: "git.sock", port: 3130 },
  supervise: { socket: "supervise.sock", port: 3131 },
} as const;

export type GateName = keyof typeof GATES;

export const LABELS = {
  identity: "bot-bottle.identity",
  role: "bot-bottle.role",
  agent: "bot-bottle.agent",
  bottle: "bot-bottle.bottle",
  /** Which state home made the object: see homeTag. */
  home: "bot-bottle.home",
} as const;

/**
 * The value of the home label: a short hash of the resolved BOT_BOTTLE_HOME, so `cleanup` run
 * with one home never takes another home's bottles for leftovers.
 */
export function homeTag(resolvedHome: string): string {
  return createHash("sha256").update(resolvedHome).digest("hex").slice(0, 16);
}

export function objectName(
  identity: string,
  what: "agent" | "sidecar" | "net" | "sockets",
): string {
  return `bot-bottle-${identity}-${what}`;
}
