/**
 * A token cut into short pieces and spread over the fields of a request, PURE: each piece alone
 * is too short for any detector, so the pieces are put back together in the order they were sent
 * and that text is checked too. Pieces are short values made only of token characters (longer
 * values and prose were checked whole already), so on ordinary traffic the joined text is small.
 */

/** A value that could be a piece of a token. */
const PIECE = /^[A-Za-z0-9+/=_.:-]{2,48}$/;
/** Joined pieces shorter than this hold no token. */
const MIN_JOINED = 16;

function collect(value: unknown, out: string[]): void {
  if (typeof value === "string") {
    if (PIECE.test(value)) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, out);
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) collect(item, out);
  }
}

/** The short string values of a JSON document, joined in order; null when not JSON or too few. */
export function jsonPiecesJoined(text: string): string | null {
  const start = text.trimStart().charAt(0);
  if (start !== "{" && start !== "[") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const pieces: string[] = [];
  collect(parsed, pieces);
  return joined(pieces);
}

/** `values` that could be pieces, joined; null when they are too few or too short together. */
export function piecesJoined(values: readonly string[]): string | null {
  return joined(values.filter((value) => PIECE.test(value)));
}

function joined(pieces: readonly string[]): string | null {
  if (pieces.length < 2) return null;
  const text = pieces.join("");
  return text.length >= MIN_JOINED ? text : null;
}
