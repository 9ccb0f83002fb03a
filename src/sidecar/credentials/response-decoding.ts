/**
 * An upstream answer's Content-Encoding undone as it streams, so that the credential proxy judges
 * (response-guard.ts) and sends on what the agent would read, not its compressed bytes.
 */
import zlib from "node:zlib";

/**
 * Streams that decompress an answer sent with `contentEncoding` (applied in reverse order), or
 * null for an encoding the proxy cannot read (the answer is then refused, not passed unread).
 */
export function decoderFor(contentEncoding: string | undefined): NodeJS.ReadWriteStream[] | null {
  const streams: NodeJS.ReadWriteStream[] = [];
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity")
    .reverse();
  for (const encoding of encodings) {
    if (encoding === "gzip" || encoding === "x-gzip") streams.push(zlib.createGunzip());
    else if (encoding === "deflate") streams.push(zlib.createInflate());
    else if (encoding === "br") streams.push(zlib.createBrotliDecompress());
    else return null;
  }
  return streams;
}
