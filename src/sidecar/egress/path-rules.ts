/**
 * What a path or method rule needs of a request, PURE. A rule that limits paths is a prefix check,
 * and a prefix check proves nothing when the upstream normalises the path differently from the
 * gate, so under such a rule a path is refused when any reading of it holds:
 * - a dot segment (`.` or `..`), in any encoding: percent-encoded once or several times
 *   (`%2e`, `%252e`), overlong UTF-8 (`%c0%ae`), or hidden behind `;` path parameters
 *   (`/ok/..;/x`, read as `..` by servlet containers);
 * - a backslash or an encoded `/` or `\` (`%2f`, `%5c`, at any depth);
 * - a NUL or other control character, or a percent sign that starts no escape.
 * And a method-override header or query parameter (`X-HTTP-Method-Override`, `X-HTTP-Method`,
 * `X-Method-Override`, `_method=`) names the method the upstream will act on: under a rule that
 * limits methods, each one named must be allowed too.
 */

/** Rounds of percent-decoding tried; a path still encoded after them is refused. */
const MAX_DECODE_ROUNDS = 8;

export const METHOD_OVERRIDE_HEADERS = [
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
] as const;

function percentDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function hasDotSegment(path: string): boolean {
  return path.split(/[/\\]/).some((segment) => {
    const bare = segment.split(";")[0] ?? "";
    return bare === "." || bare === "..";
  });
}

/** Null when `path` (without its query) can be judged by a prefix; otherwise what is wrong. */
export function pathProblem(path: string): string | null {
  if (!path.startsWith("/")) return "does not start with /";
  if (/%c0|%c1|%e0%80/i.test(path)) return "holds an overlong UTF-8 escape";
  let reading = path;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round += 1) {
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(reading)) return "holds a control character";
    if (reading.includes("\\")) return "holds a backslash";
    if (hasDotSegment(reading)) return "holds a dot segment (. or ..)";
    if (round > 0 && reading.slice(1).includes("//")) return "holds an encoded /";
    if (/%(2f|5c)/i.test(reading)) return "holds an encoded / or \\";
    if (!reading.includes("%")) return null;
    const next = percentDecode(reading);
    if (next === null) return "holds a % that starts no valid escape";
    if (next === reading) return null;
    reading = next;
  }
  return "is still percent-encoded after several rounds of decoding";
}

/** The methods a request names through override headers and `_method=` parameters, upper-case. */
export function methodOverrides(
  headers: Record<string, string | string[] | undefined>,
  pathAndQuery: string,
): string[] {
  const named: string[] = [];
  for (const name of METHOD_OVERRIDE_HEADERS) {
    const value = headers[name];
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      named.push(...one.split(","));
    }
  }
  const at = pathAndQuery.indexOf("?");
  if (at !== -1) {
    for (const pair of pathAndQuery.slice(at + 1).split(/[&;]/)) {
      const eq = pair.indexOf("=");
      const key = percentDecode(eq === -1 ? pair : pair.slice(0, eq)) ?? pair;
      if (key.toLowerCase() !== "_method") continue;
      named.push(percentDecode(pair.slice(eq + 1).replaceAll("+", " ")) ?? "?");
    }
  }
  return named.map((method) => method.trim().toUpperCase()).filter((m) => m !== "");
}
