/**
 * Built-in detectors for common secrets, PURE: each is a kind and a test over text. Patterns
 * follow the issuers' documented formats; where a format is loose (AWS secret keys, wallet
 * addresses) an extra check (character mix, checksum) keeps ordinary text from matching.
 * Known token prefixes match from 10 characters on, so a token cut in two still shows.
 */
import { isBase58Check } from "./base58check.js";

export interface SecretPattern {
  kind: string;
  find(text: string): boolean;
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

/** A 40-character AWS secret: upper, lower and digits, with a / or +, standing alone. */
function looksLikeAwsSecret(match: string): boolean {
  return /[A-Z]/.test(match) && /[a-z]/.test(match) && /[0-9]/.test(match) && /[/+]/.test(match);
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
  regex("anthropic-api-key", /sk-ant-(?:api|oat|admin)\d\d-[A-Za-z0-9_-]{10,}/),
  regex(
    "openai-api-key",
    /sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/,
  ),
  regex(
    "github-token",
    /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{10,}|\bgithub_pat_[A-Za-z0-9_]{20,}/,
  ),
  regex("gitlab-token", /\bglpat-[A-Za-z0-9_-]{10,}/),
  regex("aws-access-key-id", /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/),
  regex(
    "aws-secret-access-key",
    /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/,
    looksLikeAwsSecret,
  ),
  regex("google-api-key", /\bAIza[0-9A-Za-z_-]{35}/),
  regex("slack-token", /\bxox[abprse]-[A-Za-z0-9-]{10,}/),
  regex("slack-webhook", /hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,}/),
  regex("npm-token", /\bnpm_[A-Za-z0-9]{30,}/),
  regex("pypi-token", /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}/),
  regex("stripe-key", /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/),
  regex("private-key", /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/),
  regex("jwt", /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/, jwtHeader),
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
