/**
 * The bottle's own secrets (the tokens its gates hold), in every form they could be sent out in:
 * raw, percent-encoded, base64 (standard and URL-safe, at each of the three alignments a secret
 * can take inside a longer blob) and hex (lower and upper case). PURE; built once per set of
 * secrets. Secrets shorter than MIN_SECRET are ignored: they would match ordinary text.
 */

const MIN_SECRET = 8;

function base64Forms(secret: Buffer): string[] {
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

  constructor(secrets: readonly string[]) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (secret.length < MIN_SECRET) continue;
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

  /** True when any form of any secret appears in `text`. */
  foundIn(text: string): boolean {
    return this.forms.some((form) => text.includes(form));
  }
}
