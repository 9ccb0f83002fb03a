/**
 * Built-in detectors for common secrets, PURE: each is a kind and a test over text. Patterns
 * follow the issuers' documented formats; where a format is loose (AWS secret keys, wallet
 * addresses) an extra check (character mix, checksum) keeps ordinary text from matching.
 * Known token prefixes match from 10 characters on, so a token cut in two still shows.
 */
import { isBase58Check } from "./base58check.js";
import { charClass, classRuns } from "./char-runs.js";

export interface SecretPattern {
  kind: string;
  find(text: string): boolean;
  /** What every match starts with (a regular expression's source), when there is such. */
  prefix?: string;
}

function regex(kind: string, pattern: RegExp, check?: (match: string) => boolean): SecretPattern {
  const global = new RegExp(pattern.source, `${pattern.flags.replace("g", "")}g`);
  return {
    kind,
    find: (text) => {
      global.lastIndex = 0;
      for (const match of text.matchAll(global)) {
        if (check === undefined || check(match[0])) return true;
      }
      return false;
    },
  };
}

/** A pattern whose every match starts with `prefix` (tried only where one shows). */
function prefixed(
  kind: string,
  prefix: RegExp,
  pattern: RegExp,
  check?: (match: string) => boolean,
): SecretPattern {
  return { ...regex(kind, pattern, check), prefix: prefix.source };
}

/**
 * Maximal runs of `member` characters, `min` to `max` long, that pass `check`: the same as a
 * regular expression of the class between look-arounds that exclude it, found without trying
 * every position (char-runs.ts).
 */
function run(
  kind: string,
  member: Uint8Array,
  length: { min: number; max: number },
  check: (match: string) => boolean,
): SecretPattern {
  return {
    kind,
    find: (text) => {
      for (const [start, end] of classRuns(text, member, length.min)) {
        if (end - start <= length.max && check(text.slice(start, end))) return true;
      }
      return false;
    },
  };
}

/** Base64's characters and its padding: an AWS secret stands alone between none of them. */
const AWS_SECRET_SPAN = charClass(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
);

/** A 40-character AWS secret: upper, lower and digits, with a / or +, standing alone. */
function looksLikeAwsSecret(match: string): boolean {
  return (
    !match.includes("=") &&
    /[A-Z]/.test(match) &&
    /[a-z]/.test(match) &&
    /[0-9]/.test(match) &&
    /[/+]/.test(match)
  );
}

function jwtHeader(match: string): boolean {
  const head = match.split(".")[0] ?? "";
  try {
    return /"alg"\s*:/.test(Buffer.from(head, "base64url").toString("utf8"));
  } catch {
    return false;
  }
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  prefixed("anthropic-api-key", /sk-ant-/, /sk-ant-(?:api|oat|admin)\d\d-[A-Za-z0-9_-]{10,}/),
  prefixed(
    "openai-api-key",
    /sk-/,
    /sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/,
  ),
  prefixed(
    "github-token",
    /gh[pousr]_|github_pat_/,
    /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{10,}|\bgithub_pat_[A-Za-z0-9_]{20,}/,
  ),
  prefixed("gitlab-token", /glpat-/, /\bglpat-[A-Za-z0-9_-]{10,}/),
  prefixed("aws-access-key-id", /AKIA|ASIA|ABIA|ACCA/, /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/),
  run("aws-secret-access-key", AWS_SECRET_SPAN, { min: 40, max: 40 }, looksLikeAwsSecret),
  prefixed("google-api-key", /AIza/, /\bAIza[0-9A-Za-z_-]{35}/),
  prefixed("slack-token", /xox[abprse]-/, /\bxox[abprse]-[A-Za-z0-9-]{10,}/),
  prefixed(
    "slack-webhook",
    /hooks\.slack\.com\//,
    /hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,}/,
  ),
  prefixed("npm-token", /npm_/, /\bnpm_[A-Za-z0-9]{30,}/),
  prefixed("pypi-token", /pypi-AgEIcHlwaS5vcmc/, /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}/),
  prefixed("stripe-key", /[sr]k_(?:live|test)_/, /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/),
  prefixed("private-key", /-----BEGIN /, /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/),
  prefixed(
    "jwt",
    /eyJ/,
    /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/,
    jwtHeader,
  ),
  regex(
    "bitcoin-address",
    /(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])/,
    isBase58Check,
  ),
  regex(
    "bitcoin-private-key",
    /(?<![A-Za-z0-9])[5KL][1-9A-HJ-NP-Za-km-z]{50,51}(?![A-Za-z0-9])/,
    isBase58Check,
  ),
];

/** Every prefix in one expression: text where none shows holds none of those secrets. */
const PREFIXES = new RegExp(SECRET_PATTERNS.flatMap((pattern) => pattern.prefix ?? []).join("|"));

/**
 * The kind of the first pattern (in SECRET_PATTERNS' order) found in `text`, or null. The
 * patterns with a prefix are tried only when one of the prefixes shows: one pass over the text
 * for them all, instead of one each.
 */
export function firstSecret(text: string): string | null {
  const hinted = PREFIXES.test(text);
  for (const pattern of SECRET_PATTERNS) {
    if (pattern.prefix !== undefined && !hinted) continue;
    if (pattern.find(text)) return pattern.kind;
  }
  return null;
}
