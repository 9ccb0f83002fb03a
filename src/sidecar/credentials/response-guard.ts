/**
 * What of an upstream's streamed answer may go on to the agent, PURE: the bottle's own secrets
 * (every route token and the other own secrets) must not reach it in any form the DLP knows (raw
 * in any letter case, percent, hex, base64 at any alignment, a long enough piece of one; the
 * base64 of either half too), and not even the first bytes of one.
 *
 * Streaming is kept: each chunk is released at once, except its last characters where they could
 * be the start of a secret (a suffix that begins one of its forms, or is a piece of it); those wait
 * for the next chunk, or the end. An answer that ends in an event's blank line holds nothing back.
 * Once the text held and the new chunk show a secret, the answer is `cut`: nothing more goes out.
 * Bytes are read as latin1 (one character per byte); a compressed answer is given here after its
 * decompression (the proxy sends it on decompressed).
 *
 * Compressed data WITHOUT a Content-Encoding (an answer that starts as binary data, or where gzip's
 * magic or a NUL shows) cannot be judged as it streams: from there on the answer is held whole
 * (up to MAX_HELD; past it, cut) and judged at its end, raw and decompressed, with the DLP's own
 * decompression (dlp/text-decoders.ts decompressedReadings: gzip anywhere, zlib, raw deflate,
 * nested). Ordinary text and event streams never show either and keep streaming.
 */
import { MIN_SECRET, OwnSecrets, base64Forms } from "../dlp/own-secrets.js";
import {
  BudgetExceeded,
  binaryHead,
  decompressedReadings,
  mayHoldCompressed,
} from "../dlp/text-decoders.js";

/** The most of an answer held whole to be judged at its end (compressed data, see above). */
export const MAX_HELD = 32 * 1024 * 1024;

/** The secrets' forms and pieces, for finding them and for knowing what to hold back. */
export class SecretForms {
  readonly matcher: OwnSecrets;
  /** Forms compared exactly (base64). */
  private readonly exact: string[] = [];
  /** Forms compared in lower case (the secret, percent-encoded, hex). */
  private readonly folded: string[] = [];
  /** The secrets in lower case: a suffix that is a piece of one is held back. */
  private readonly lower: string[] = [];

  constructor(secrets: readonly string[]) {
    const usable = secrets.filter((secret) => secret.length >= MIN_SECRET);
    const halves = usable.flatMap((secret) => {
      const half = Math.ceil(secret.length / 2);
      return [secret.slice(0, half), secret.slice(half)].filter((h) => h.length >= MIN_SECRET);
    });
    this.matcher = new OwnSecrets([...usable, ...halves]);
    for (const secret of usable) {
      const bytes = Buffer.from(secret, "latin1");
      this.lower.push(secret.toLowerCase());
      this.folded.push(
        secret.toLowerCase(),
        encodeURIComponent(secret).toLowerCase(),
        bytes.toString("hex"),
      );
    }
    for (const secret of [...usable, ...halves]) {
      this.exact.push(...base64Forms(Buffer.from(secret, "latin1")));
    }
  }

  get empty(): boolean {
    return this.lower.length === 0;
  }

  /** How many of the last characters of `text` could begin a secret's form or piece. */
  heldBack(text: string): number {
    const lower = text.toLowerCase();
    let held = 0;
    for (const form of this.exact) held = Math.max(held, prefixSuffix(text, form));
    for (const form of this.folded) held = Math.max(held, prefixSuffix(lower, form));
    for (const secret of this.lower) held = Math.max(held, pieceSuffix(lower, secret));
    return held;
  }
}

/** The longest suffix of `text` shorter than `form` that `form` starts with. */
function prefixSuffix(text: string, form: string): number {
  const first = form.charAt(0);
  for (let k = Math.min(text.length, form.length - 1); k > 0; k -= 1) {
    if (text.charAt(text.length - k) === first && form.startsWith(text.slice(text.length - k))) {
      return k;
    }
  }
  return 0;
}

/** The longest suffix of `text` that is a piece of `secret`. */
function pieceSuffix(text: string, secret: string): number {
  const last = text.charAt(text.length - 1);
  let best = 0;
  if (last === "") return 0;
  for (let end = secret.indexOf(last); end !== -1; end = secret.indexOf(last, end + 1)) {
    let k = 1;
    while (k <= end && k < text.length && secret[end - k] === text[text.length - 1 - k]) k += 1;
    best = Math.max(best, k);
  }
  return best;
}

export type GuardStep = { cut: false; release: string } | { cut: true };

/** One answer's guard: `push` each chunk (latin1), then `end`. */
export class ResponseGuard {
  private pending = "";
  private done = false;
  private started = false;
  /** The answer from where compressed data may start: held whole, judged at the end. */
  private held: string | null = null;

  constructor(private readonly forms: SecretForms) {}

  push(chunk: string): GuardStep {
    if (this.done) return { cut: true };
    if (this.held !== null) {
      this.held += chunk;
      if (this.held.length <= MAX_HELD) return { cut: false, release: "" };
      this.done = true;
      return { cut: true };
    }
    const text = this.pending + chunk;
    if (this.forms.matcher.foundIn(text)) {
      this.done = true;
      return { cut: true };
    }
    const first = !this.started;
    this.started = true;
    if ((first && binaryHead(text)) || mayHoldCompressed(text)) {
      this.held = text;
      this.pending = "";
      return { cut: false, release: "" };
    }
    const held = this.forms.heldBack(text);
    this.pending = text.slice(text.length - held);
    return { cut: false, release: text.slice(0, text.length - held) };
  }

  /** The rest, at the end of the answer (already judged with everything before it). */
  end(): GuardStep {
    if (this.done) return { cut: true };
    this.done = true;
    if (this.held !== null) {
      const held = this.held;
      this.held = null;
      return this.carries(held) ? { cut: true } : { cut: false, release: held };
    }
    const rest = this.pending;
    this.pending = "";
    return { cut: false, release: rest };
  }

  /** True when `text` holds a secret raw or in any decompressed reading (or cannot be read). */
  private carries(text: string): boolean {
    if (this.forms.matcher.foundIn(text)) return true;
    try {
      return decompressedReadings(text, Math.max(MAX_HELD, 8 * text.length)).some((reading) =>
        this.forms.matcher.foundIn(reading),
      );
    } catch (error) {
      // A bomb, or data that cannot be read within the budget: not passed unread.
      if (error instanceof BudgetExceeded) return true;
      throw error;
    }
  }
}
