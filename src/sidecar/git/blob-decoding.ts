/**
 * What of a pushed object the scanner is shown besides its bytes, PURE: layers a file may hide
 * its text under that the scanner would not open by itself. A gzip stream (by its magic bytes,
 * whatever the file's name) is inflated, within a budget: past it, `BlobDecodingError` (the caller
 * refuses the push: content that could not be checked is not let out). A file that is base32
 * through and through is decoded. Each decoded layer is tried again, a few layers deep.
 */
import zlib from "node:zlib";

/** Bytes one file may inflate to; more is refused as a bomb. */
export const MAX_INFLATED_BYTES = 32 * 1024 * 1024;
const MAX_LAYERS = 4;

export class BlobDecodingError extends Error {
  override readonly name = "BlobDecodingError";
}

const isGzip = (data: Buffer): boolean => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const NOT_BASE32 = /[^A-Za-z2-7=\s]/;

/** The bytes of a text that is base32 and nothing else (RFC 4648, any case), or null. */
export function base32Bytes(text: string): Buffer | null {
  // Most files fail at their first characters: only a base32 start is read further.
  if (NOT_BASE32.test(text.slice(0, 64))) return null;
  const compact = text.replace(/\s+/g, "").toUpperCase().replace(/=+$/, "");
  if (compact.length < 16 || !/^[A-Z2-7]+$/.test(compact)) return null;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of compact) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

function inflate(data: Buffer): Buffer {
  try {
    return zlib.gunzipSync(data, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    if (
      error instanceof RangeError ||
      (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
    ) {
      throw new BlobDecodingError(
        `a gzip file inflates past ${MAX_INFLATED_BYTES} bytes, more than the gate checks`,
      );
    }
    throw new BlobDecodingError(
      `a gzip file could not be read whole (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The decoded layers under `data` (not `data` itself), as latin1 text each. */
export function decodedLayers(data: Buffer): string[] {
  const layers: string[] = [];
  let current = data;
  for (let depth = 0; depth < MAX_LAYERS; depth += 1) {
    let next: Buffer | null = null;
    if (isGzip(current)) next = inflate(current);
    else if (!NOT_BASE32.test(current.subarray(0, 64).toString("latin1"))) {
      next = base32Bytes(current.toString("latin1"));
    }
    if (next === null) break;
    layers.push(next.toString("latin1"));
    current = next;
  }
  return layers;
}
