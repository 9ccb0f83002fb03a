/**
 * The sidecar's limits, in one place: the host sets the container's (launch.ts), the sidecar
 * its own (caps on connections per gate and on bytes held in memory). Past a cap, new work gets
 * 503 and the sidecar stays up; docs/ARCHITECTURE.md lists them.
 */

/** The uid:gid the sidecar runs as when the operator is root (distroless's "nonroot"). */
export const SIDECAR_NONROOT_ID = 65532;

export const SIDECAR_CONTAINER = {
  /** Memory of the sidecar container (swap none): the gates, the content checks' worker, git. */
  memoryBytes: 1024 * 1024 ** 2,
  /** Processes and threads (Node's, git's and ssh's). */
  pids: 512,
  /** The writable /tmp (the git gate's private key folder and ssh's shared connections). */
  tmpBytes: 64 * 1024 ** 2,
} as const;

/** Open connections at once per gate; one more gets 503 before a byte of it is read. */
export const GATE_CONNECTIONS = {
  egress: 256,
  credentials: 64,
  git: 32,
  supervise: 32,
  control: 16,
} as const;

export type GateName = keyof typeof GATE_CONNECTIONS;

/**
 * Request bodies held in memory at once across every gate (the egress proxy's and the credential
 * proxy's, read whole to be checked before they are sent). A body that would pass it gets 503.
 */
export const BUFFERED_BYTES = 128 * 1024 ** 2;
