/**
 * A request body as the content checks read it: decoded from its Content-Encoding (gzip,
 * deflate, br; stacked encodings in reverse order), with a cap on the decoded size so a small
 * bomb cannot exhaust memory. An encoding the gate cannot read, or one that fails or goes past
 * the cap, is reported, and the request is refused rather than passed unread.
 */
import zlib from "node:zlib";

export type DecodedBody = { ok: true; body: Buffer } | { ok: false; problem: string };

function decodeOne(body: Buffer, encoding: string, maxBytes: number): Buffer {
  const options = { maxOutputLength: maxBytes };
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(body, options);
    case "deflate":
      try {
        return zlib.inflateSync(body, options);
      } catch {
        return zlib.inflateRawSync(body, options);
      }
    case "br":
      return zlib.brotliDecompressSync(body, { maxOutputLength: maxBytes });
    case "identity":
    case "":
      return body;
    default:
      throw new Error(`unknown encoding ${encoding}`);
  }
}

export function decodeBody(
  body: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
): DecodedBody {
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "")
    .reverse();
  let current = body;
  for (const encoding of encodings) {
    try {
      current = decodeOne(current, encoding, maxBytes);
    } catch {
      return { ok: false, problem: "undecodable-body" };
    }
  }
  return { ok: true, body: current };
}
