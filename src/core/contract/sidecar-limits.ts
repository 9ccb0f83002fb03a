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

/**
 * V8's heap in the sidecar's node process (set through NODE_OPTIONS by the host, launch.ts).
 * - Young generation: semi-spaces of 1 MiB. Node's default lets them grow to 16 MiB while the
 *   code loads, and they stay committed in an idle bottle (about 7 MB per bottle, measured by
 *   `npm run bench:density`); `bench:egress` measured no more CPU per MiB through the gate with it.
 * - Old generation: 512 MiB, what node picks by itself in a 1 GiB container, fixed here so that
 *   the heap, the request bodies held outside it (BUFFERED_BYTES) and the rest of the container
 *   (node itself, the content checks' worker, git and ssh) stay within its memory whatever node's
 *   heuristics do. Past it the process ends and every gate with it (fail closed), as when the
 *   kernel's limit is met.
 */
export const SIDECAR_HEAP = { semiSpaceMiB: 1, oldSpaceMiB: 512 } as const;

/** The sidecar's NODE_OPTIONS (its V8 heap flags, above). */
export function sidecarNodeOptions(): string {
  return `--max-semi-space-size=${String(SIDECAR_HEAP.semiSpaceMiB)} --max-old-space-size=${String(SIDECAR_HEAP.oldSpaceMiB)}`;
}
