/**
 * One direction of a byte tunnel (a passthrough tunnel's download side) without a new Buffer per
 * read: the source socket is made with `onread` (net.connect's option), so the kernel's bytes land
 * in one buffer that this copy owns and reuses, and each read is written to the target at once.
 *
 * Why: `pipe()` allocates a Buffer per read (up to 64 KiB), runs it through the stream machinery
 * and leaves it to the garbage collector; measured here that is about half of a tunnel's CPU per
 * MiB (docs/benchmarks.md). The bytes are not read or kept beyond the write.
 *
 * Safety of the reuse: the buffer is read into again only once the target no longer holds any of
 * it. After each write, if the target took it all at once (`writableLength` is 0: the kernel has
 * the bytes), reading goes on; otherwise the source is paused until that write's callback, so a
 * slow target also slows the source (back pressure, as pipe gives). At most one buffer per
 * direction is ever held.
 *
 * The source's end is passed on as the target's end (as pipe does). Errors and close are the
 * caller's (both sockets' close handlers tear the pair down).
 */
import type net from "node:net";

/** Bytes read at once: as much as Node reads per call by default, so memory per tunnel is bounded. */
export const COPY_BUFFER_BYTES = 64 * 1024;

export class ReusedBufferCopy {
  private source: net.Socket | undefined;
  /** The write the source waits for (0: none). */
  private held = 0;
  private writes = 0;
  /** Pass as the source's `onread` option. */
  readonly onread: net.OnReadOpts;

  constructor(
    private readonly target: net.Socket,
    size = COPY_BUFFER_BYTES,
  ) {
    this.onread = {
      buffer: Buffer.allocUnsafe(size),
      callback: (bytes, buffer) => this.onRead(bytes, buffer),
    };
  }

  /**
   * Binds the socket made with `onread`; its end ends the target. A socket made without it (an
   * injected dial that dropped the option) emits 'data' instead, copied the same way.
   */
  attach(source: net.Socket): void {
    this.source = source;
    source.on("data", (chunk: Buffer) => {
      this.onRead(chunk.length, chunk);
    });
    source.once("end", () => {
      this.target.end();
    });
  }

  private onRead(bytes: number, buffer: Uint8Array): boolean {
    const write = (this.writes += 1);
    this.target.write(buffer.subarray(0, bytes), () => {
      if (this.held !== write) return;
      this.held = 0;
      this.source?.resume();
    });
    if (this.target.writableLength === 0) return true;
    this.held = write;
    this.source?.pause();
    return false;
  }
}
