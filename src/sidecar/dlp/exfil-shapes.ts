/**
 * Shapes of data smuggled out in names and paths, PURE.
 *
 * Host names: the labels left of the registrable part (the last two labels) are looked at. A name
 * is refused when it is very long, when a label is very long, when a label is hex that decodes to
 * text, when a label looks like base32 data, or when it chains many data-like labels. Ordinary
 * CDN and service names (`cdnjs.cloudflare.com`, `d1a2b3c4.cloudfront.net`) pass. Labels are
 * judged together too: short base32 or hex labels that decode to text once joined, or random
 * labels that are long together, are data cut to fit under an allowed wildcard.
 *
 * Paths: a segment of 24 or more letters and digits mixing upper case, lower case and digits, at
 * the entropy of random data, is refused (hex ids such as commit hashes and UUIDs are not mixed
 * case, and pass).
 */

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function hexText(label: string): boolean {
  if (label.length < 12 || label.length % 2 !== 0 || !/^[0-9a-f]+$/.test(label)) return false;
  const bytes = Buffer.from(label, "hex");
  return bytes.every((b) => b >= 0x20 && b < 0x7f);
}

function base32Data(label: string): boolean {
  return (
    label.length >= 16 &&
    /^[a-z2-7]+$/.test(label) &&
    (label.match(/[2-7]/g)?.length ?? 0) >= 2 &&
    entropy(label) >= 3.2
  );
}

function dataLike(label: string): boolean {
  return (
    label.length >= 6 && /[0-9]/.test(label) && /[a-z]/.test(label) && /^[a-z0-9]+$/.test(label)
  );
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Whether base32 `data` (lower case) decodes, at some alignment, to mostly printable text. */
function base32Text(data: string): boolean {
  for (let shift = 0; shift < 8; shift += 1) {
    const bytes: number[] = [];
    let bits = 0;
    let value = 0;
    for (const char of data.slice(shift)) {
      value = ((value << 5) | BASE32.indexOf(char)) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        bytes.push((value >>> (bits - 8)) & 0xff);
        bits -= 8;
      }
    }
    const printable = bytes.filter((b) => b >= 0x20 && b < 0x7f).length;
    if (bytes.length >= 8 && printable >= bytes.length * 0.9) return true;
  }
  return false;
}

/**
 * The labels judged together: data spread over several short labels (each too short to look
 * like data alone) is data when they are joined: base32 or hex that decodes to text, or a long
 * run of random-looking characters.
 */
function joinedLabels(labels: readonly string[]): string | null {
  const data = labels.filter((label) => /^[a-z0-9]+$/.test(label));
  if (data.length < 2) return null;
  const joined = data.join("");
  if (joined.length >= 16 && /^[a-z2-7]+$/.test(joined) && base32Text(joined)) {
    return "base32-labels";
  }
  if (data.every((label) => /^[0-9a-f]+$/.test(label)) && hexText(joined)) return "hex-labels";
  // Random data (a key, or text encrypted or compressed first) decodes to no text: judged by its
  // shape. Twelve bytes or more as hex, base32 or any mix of letters and digits over two labels
  // or more; names of services (words, a region, a short id) are not that long and random.
  const hex = data.filter((label) => /^[0-9a-f]+$/.test(label) && /[0-9]/.test(label));
  const hexJoined = hex.join("");
  if (hex.length >= 2 && hexJoined.length >= JOINED_DATA && /[a-f]/.test(hexJoined)) {
    return "hex-labels";
  }
  const base32 = data.filter((label) => /^[a-z2-7]{4,}$/.test(label));
  const base32Joined = base32.join("");
  if (
    base32.filter((label) => label.length >= 8).length >= 2 &&
    base32Joined.length >= JOINED_DATA &&
    entropy(base32Joined) >= 3.5 &&
    // Digits, or too few vowels for words: random letters hold a vowel one time in six or so.
    ((base32Joined.match(/[2-7]/g)?.length ?? 0) >= 3 ||
      (base32Joined.match(/[aeiouy]/g)?.length ?? 0) * 4 < base32Joined.length)
  ) {
    return "base32-labels";
  }
  if (joined.length >= JOINED_DATA) {
    const digits = joined.replace(/[^0-9]/g, "").length;
    const spread = data.filter((label) => /[0-9]/.test(label)).length >= 2;
    if (digits * 10 >= joined.length && spread && entropy(joined) >= 3.8) return "data-labels";
  }
  const mixed = data.filter(dataLike);
  const mixedJoined = mixed.join("");
  if (mixed.length >= 2 && mixedJoined.length >= 28 && entropy(mixedJoined) >= 4.0) {
    return "data-labels";
  }
  return null;
}

/** Characters of data-like labels, joined, from which their shape alone refuses them. */
const JOINED_DATA = 24;

/** Why a host name looks like it carries data, or null. `host` is lower-case. */
export function hostExfiltration(host: string): string | null {
  if (/^[0-9.]+$/.test(host) || host.includes(":")) return null;
  if (host.length > 120) return "name-too-long";
  const labels = host.split(".").slice(0, -2);
  if (labels.some((label) => label.length > 40)) return "long-label";
  if (labels.some(hexText)) return "hex-label";
  if (labels.some(base32Data)) return "base32-label";
  if (labels.filter(dataLike).length >= 4) return "data-labels";
  return joinedLabels(labels);
}

/** True when a path segment looks like random data (an encoded secret or a key). */
export function randomPathSegment(path: string): boolean {
  const cut = path.search(/[?#]/);
  const segments = (cut === -1 ? path : path.slice(0, cut)).split("/");
  return segments.some(
    (segment) =>
      segment.length >= 24 &&
      /^[A-Za-z0-9]+$/.test(segment) &&
      /[A-Z]/.test(segment) &&
      /[a-z]/.test(segment) &&
      /[0-9]/.test(segment) &&
      entropy(segment) >= 4.2,
  );
}
