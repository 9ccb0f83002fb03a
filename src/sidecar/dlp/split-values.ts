/**
 * A token cut into short pieces and spread over the fields of a request, PURE: each piece alone
 * is too short for any detector, so the pieces are put back together in the order they were sent
 * and that text is checked too. Pieces are short values made only of token characters (longer
 * values and prose were checked whole already), so on ordinary traffic the joined text is small.
 */

/** A value that could be a piece of a token (no `/`, `:` or `.`: paths and URLs joined look like base64). */
const PIECE = /^[A-Za-z0-9+=_-]{2,48}$/;
/** Joined pieces shorter than this hold no token. */
const MIN_JOINED = 16;

/** A short JSON string value of token characters (not a key), read without parsing the body. */
const JSON_PIECE = /"([A-Za-z0-9+=_-]{2,48})"(?!\s*:)/g;

/**
 * The short strings of a JSON document that hold a capital or a digit (a piece of a token
 * nearly always does; words and most keys do not), joined in order; null when not JSON-like or
 * too few. Read with one regular expression, not a parse: the body was checked whole already.
 */
export function jsonPiecesJoined(text: string): string | null {
  const start = text.trimStart().charAt(0);
  if (start !== "{" && start !== "[") return null;
  const pieces: string[] = [];
  for (const match of text.matchAll(JSON_PIECE)) {
    const piece = match[1] ?? "";
    if (/[A-Z0-9]/.test(piece)) pieces.push(piece);
  }
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
