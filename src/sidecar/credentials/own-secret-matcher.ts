/**
 * The bottle's own secrets as the credential proxy looks for them in what it forwards, PURE:
 * raw and percent-encoded, whole or in part (case-insensitive), hex (either case), and base64 (standard and
 * URL-safe) at the three alignments a secret can take inside a longer blob. Only exact forms of
 * the bottle's own values are matched, so ordinary traffic never trips it. Values shorter than
 * MIN_SECRET are ignored.
 */
import { BudgetExceeded, decompressedReadings } from "../dlp/text-decoders.js";

const MIN_SECRET = 8;

function base64Forms(secret: Buffer): string[] {
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    // Preceded by `shift` unknown bytes, only the characters that depend on the secret alone are
    // stable: the first partial character and the last partial group are dropped.
    const padded = Buffer.concat([Buffer.alloc(shift), secret]);
    const encoded = padded.toString("base64");
    const skip = shift === 0 ? 0 : Math.ceil((shift * 4) / 3);
    const end = padded.length % 3 === 0 ? encoded.length : encoded.length - 4;
    const stable = encoded.slice(skip, end);
    if (stable.length >= MIN_SECRET)
      forms.push(stable, stable.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms;
}

export class OwnSecretMatcher {
  /** Forms compared case-insensitively (against the lower-cased text). */
  private readonly folded: string[];
  /** Forms compared exactly (base64 is case-sensitive). */
  private readonly exact: string[];

  constructor(secrets: readonly string[]) {
    const folded = new Set<string>();
    const exact = new Set<string>();
    for (const secret of secrets) {
      if (secret.length < MIN_SECRET) continue;
      const bytes = Buffer.from(secret, "utf8");
      folded.add(secret.toLowerCase());
      folded.add(encodeURIComponent(secret).toLowerCase());
      folded.add(bytes.toString("hex"));
      for (const form of base64Forms(bytes)) exact.add(form);
    }
    this.folded = [...folded];
    this.exact = [...exact];
  }

  get empty(): boolean {
    return this.folded.length === 0;
  }

  /**
   * True when any form of any own secret appears in `text` (bytes as latin1) or in any of its
   * decompressed readings (gzip, zlib or raw deflate sent without a Content-Encoding, found as the
   * DLP finds them: dlp/text-decoders.ts). Data that inflates past `maxBytes` counts as found
   * (fail closed).
   */
  foundInBody(text: string, maxBytes: number): boolean {
    if (this.foundIn(text)) return true;
    try {
      return decompressedReadings(text, maxBytes).some((reading) => this.foundIn(reading));
    } catch (error) {
      if (error instanceof BudgetExceeded) return true;
      throw error;
    }
  }

  /** True when any form of any own secret appears in `text`. */
  foundIn(text: string): boolean {
    if (this.empty) return false;
    if (this.exact.some((form) => text.includes(form))) return true;
    const lower = text.toLowerCase();
    if (this.folded.some((form) => lower.includes(form))) return true;
    // Percent-encoding any subset of the bytes: decode once and look again.
    if (!text.includes("%")) return false;
    const decoded = text
      .replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
      .toLowerCase();
    return decoded !== lower && this.folded.some((form) => decoded.includes(form));
  }
}
