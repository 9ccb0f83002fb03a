/**
 * Reads `git cat-file --batch` output as it comes, PURE: for each id asked, in order, the
 * object's type and bytes, or null when the object is not there.
 *
 * Each answer is `<id> <type> <size>\n<bytes>\n`, or `<id> missing\n` (or `ambiguous`).
 */

export interface BatchObject {
  oid: string;
  type: string;
  data: Buffer;
}

export class BatchError extends Error {
  override readonly name = "BatchError";
}

const HEADER = /^([0-9a-f]+) (?:([a-z]+) (\d+)|(missing|ambiguous))$/;

export class CatFileBatchReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The answer being read: its header, and the bytes still to come (with the final \n). */
  private current: { oid: string; type: string; size: number } | null = null;

  constructor(private readonly emit: (oid: string, object: BatchObject | null) => void) {}

  write(data: Buffer): void {
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.current === null && !this.readHeader()) return;
      if (this.current === null) continue;
      const { oid, type, size } = this.current;
      if (this.buffered < size + 1) return;
      const body = this.take(size + 1);
      if (body[size] !== 0x0a) throw new BatchError(`cat-file's answer for ${oid} ran long`);
      this.current = null;
      this.emit(oid, { oid, type, data: body.subarray(0, size) });
    }
  }

  end(): void {
    if (this.current !== null || this.buffered > 0) {
      throw new BatchError("cat-file's output ended inside an answer");
    }
  }

  /** Reads a header when a whole one is there; a missing object is answered at once. */
  private readHeader(): boolean {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    if (all === undefined) return false;
    this.chunks = [all];
    const eol = all.indexOf(0x0a);
    if (eol === -1) {
      if (all.length > 1024) throw new BatchError("cat-file printed a header the gate cannot read");
      return false;
    }
    const header = HEADER.exec(all.subarray(0, eol).toString("latin1"));
    if (header === null) throw new BatchError("cat-file printed a header the gate cannot read");
    this.take(eol + 1);
    const [, oid = "", type, size] = header;
    if (type === undefined || size === undefined) this.emit(oid, null);
    else this.current = { oid, type, size: Number(size) };
    return true;
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    if (all === undefined) return Buffer.alloc(0);
    this.chunks = all.length > length ? [all.subarray(length)] : [];
    this.buffered -= length;
    return all.subarray(0, length);
  }
}
