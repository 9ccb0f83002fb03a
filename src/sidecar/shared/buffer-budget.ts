/**
 * Bytes the sidecar holds in memory for request bodies, counted across every gate, under one
 * limit (`BUFFERED_BYTES`). A gate takes bytes as chunks arrive and gives them back when the
 * request is done; when a chunk would pass the limit, nothing is taken and the gate answers 503.
 * One object per sidecar, handed to each gate (no module state).
 */
export class BufferBudget {
  private held = 0;

  constructor(readonly limit: number) {}

  /** Takes `bytes`; false, taking nothing, when that would pass the limit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  /** Bytes held right now (for tests and health). */
  heldBytes(): number {
    return this.held;
  }

  /** A hold for one request: `take` as chunks come, `release` once (more calls do nothing). */
  hold(): BufferHold {
    let taken = 0;
    return {
      take: (bytes) => {
        if (!this.take(bytes)) return false;
        taken += bytes;
        return true;
      },
      resize: (bytes) => {
        if (bytes <= taken) {
          this.give(taken - bytes);
          taken = bytes;
          return true;
        }
        if (!this.take(bytes - taken)) return false;
        taken = bytes;
        return true;
      },
      release: () => {
        this.give(taken);
        taken = 0;
      },
    };
  }
}

export interface BufferHold {
  take(bytes: number): boolean;
  /** Makes the hold exactly `bytes` (what is held right now); false when growing would pass. */
  resize(bytes: number): boolean;
  release(): void;
}

/** What a gate answers (503) when a body would pass the budget. */
export const BUFFER_FULL =
  "the sidecar holds as much request data as it may right now (other requests' bodies); retry shortly";
