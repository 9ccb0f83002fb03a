/**
 * The bottle's own secrets (the tokens its gates hold), in every form they could be sent out in:
 * raw, percent-encoded, base64 (standard and URL-safe, at each of the three alignments a secret
 * can take inside a longer blob) and hex (lower and upper case). PURE; built once per set of
 * secrets. Secrets shorter than MIN_SECRET are ignored: they would match ordinary text.
 *
 * Fragments: any piece of a secret at least fragmentLength() long, in any letter case, is found
 * too, so a secret sent in halves (two requests, two files) is caught in each. Other encodings of
 * a fragment are undone by decode-layers.ts before the text gets here.
 */

export const MIN_SECRET = 8;
/** The q-grams the fragment search samples the text by. */
const GRAM = 8;

/** The shortest fragment of a secret that is found: 16, or half of it, but at least 12. */
export function fragmentLength(secret: string): number {
  return Math.min(secret.length, Math.max(12, Math.min(16, Math.floor(secret.length / 2))));
}

/**
 * The stable base64 (and base64url) readings of `secret` at each of the three alignments it can
 * have inside a longer encoded text.
 */
export function base64Forms(secret: Buffer): string[] {
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    // The secret preceded by `shift` unknown bytes: only the characters that depend on the
    // secret alone are stable, so the first and last partial characters are dropped.
    const padded = Buffer.concat([Buffer.alloc(shift), secret]);
    const encoded = padded.toString("base64");
    const skip = shift === 0 ? 0 : Math.ceil((shift * 4) / 3);
    const tail = padded.length % 3 === 0 ? encoded.length : encoded.length - 4;
    const stable = encoded.slice(skip, tail).replace(/=+$/, "");
    if (stable.length >= MIN_SECRET) {
      forms.push(stable, stable.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return forms;
}

export class OwnSecrets {
  private readonly forms: string[];
  /** Lower-case secrets, each with the shortest fragment of it found. */
  private readonly fragments: { secret: string; min: number }[] = [];
  /** Every GRAM-long piece of a lower-case secret, to the secrets it is in. */
  private readonly grams = new Map<string, number[]>();
  /** The grams' hashes (gramHash), as a bit set: most places of a text are ruled out by it. */
  private readonly gramBits = new Uint8Array(1 << (HASH_BITS - 3));
  private readonly step: number = Number.MAX_SAFE_INTEGER;

  constructor(secrets: readonly string[]) {
    const forms = new Set<string>();
    // A secret written backwards is the secret: its reversal is looked for as fragments (in any
    // case; its encodings are undone by the decoding layers first), not as more whole forms, each
    // of which would be one more pass over every text.
    const reversed = secrets.map((secret) => Array.from(secret).reverse().join(""));
    for (const [index, secret] of [...secrets, ...reversed].entries()) {
      if (secret.length < MIN_SECRET) continue;
      const lower = secret.toLowerCase();
      const min = fragmentLength(secret);
      if (min >= GRAM) {
        const index = this.fragments.length;
        this.fragments.push({ secret: lower, min });
        for (let at = 0; at + GRAM <= lower.length; at += 1) {
          const gram = lower.slice(at, at + GRAM);
          const list = this.grams.get(gram) ?? [];
          if (!list.includes(index)) list.push(index);
          this.grams.set(gram, list);
          const hash = gramHash(gram, 0);
          this.gramBits[hash >>> 3] = (this.gramBits[hash >>> 3] ?? 0) | (1 << (hash & 7));
        }
        // A fragment `min` long covers a GRAM-long piece starting at every step-th position.
        this.step = Math.min(this.step, min - GRAM + 1);
      }
      if (index >= secrets.length) continue;
      const bytes = Buffer.from(secret, "utf8");
      forms.add(secret);
      forms.add(encodeURIComponent(secret));
      for (const form of base64Forms(bytes)) forms.add(form);
      forms.add(bytes.toString("hex"));
      forms.add(bytes.toString("hex").toUpperCase());
    }
    this.forms = [...forms];
  }

  get empty(): boolean {
    return this.forms.length === 0;
  }

  /** True when any form of any secret, or a long enough fragment in any case, is in `text`. */
  foundIn(text: string): boolean {
    return this.forms.some((form) => text.includes(form)) || this.fragmentIn(text);
  }

  private fragmentIn(text: string): boolean {
    if (this.fragments.length === 0 || text.length < GRAM) return false;
    const bits = this.gramBits;
    for (let at = 0; at + GRAM <= text.length; at += this.step) {
      const hash = gramHash(text, at);
      if (((bits[hash >>> 3] ?? 0) & (1 << (hash & 7))) === 0) continue;
      // A possible piece: read it, and around it, in lower case.
      const from = Math.max(0, at - 64);
      // ASCII letters only: a lower-cased non-ASCII letter may change the length.
      const lower = text.slice(from, at + GRAM + 64).replace(/[A-Z]+/g, (u) => u.toLowerCase());
      const hits = this.grams.get(lower.slice(at - from, at - from + GRAM));
      if (hits === undefined) continue;
      for (const index of hits) {
        const fragment = this.fragments[index];
        if (
          fragment !== undefined &&
          sharedRun(lower, at - from, fragment.secret) >= fragment.min
        ) {
          return true;
        }
      }
    }
    return false;
  }
}

const HASH_BITS = 20;

/** A hash of the GRAM characters of `text` at `at`, letters in lower case (HASH_BITS bits). */
function gramHash(text: string, at: number): number {
  let hash = 0x811c9dc5;
  for (let i = at; i < at + GRAM; i += 1) {
    let code = text.charCodeAt(i);
    if (code >= 65 && code <= 90) code += 32;
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  return (hash ^ (hash >>> HASH_BITS)) & ((1 << HASH_BITS) - 1);
}

/** The longest run of `text` around its GRAM-long piece at `at` that is also a run of `secret`. */
function sharedRun(text: string, at: number, secret: string): number {
  const gram = text.slice(at, at + GRAM);
  let best = 0;
  for (let pos = secret.indexOf(gram); pos !== -1; pos = secret.indexOf(gram, pos + 1)) {
    let before = 0;
    while (
      pos - before > 0 &&
      at - before > 0 &&
      secret[pos - before - 1] === text[at - before - 1]
    ) {
      before += 1;
    }
    let after = GRAM;
    while (pos + after < secret.length && secret[pos + after] === text[at + after]) after += 1;
    best = Math.max(best, before + after);
  }
  return best;
}
