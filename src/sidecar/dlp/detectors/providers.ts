/**
 * Tokens of named services, PURE, after the issuers' published formats (and the public rule sets
 * that collect them). Each has a fixed prefix (or a fixed part) that the index looks for first.
 * Where a format is loose, a check (character mix, what a part decodes to) keeps ordinary text
 * from matching. Well-known prefixes match from 10 characters on, so a token cut in two shows.
 */
import { charClass } from "../char-runs.js";
import { type SecretPattern, caseless, mixedCase, prefixed, run } from "./detector.js";

/** Base64's characters and its padding: an AWS secret stands alone between none of them. */
const AWS_SECRET_SPAN = charClass(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
);

/** A 40-character AWS secret: upper, lower and digits, with a / or +, standing alone. */
function looksLikeAwsSecret(match: string): boolean {
  return !match.includes("=") && mixedCase(match) && /[/+]/.test(match);
}

/** The first part of a Discord bot token is a user id (digits) in base64. */
function discordUserId(match: RegExpMatchArray): boolean {
  const id = Buffer.from((match[0].split(".")[0] ?? "").replace(/-/g, "+"), "base64").toString(
    "latin1",
  );
  return /^\d{17,20}$/.test(id);
}

/** An Azure SAS signature is an HMAC-SHA256: 32 bytes in base64 (percent-encoded or not). */
function sasSignature(match: RegExpMatchArray): boolean {
  let value = match[1] ?? "";
  try {
    value = decodeURIComponent(value);
  } catch {
    return false;
  }
  return /^[A-Za-z0-9+/]{43}=$/.test(value);
}

/** A legacy Vault token (`s.` and 24 characters) mixes cases and digits, unlike identifiers. */
function vaultLegacy(match: RegExpMatchArray): boolean {
  return mixedCase(match[0].slice(2));
}

/** True when the `length` characters before the match are `shape`, with no more of them. */
function before(match: RegExpMatchArray, length: number, shape: RegExp): boolean {
  const start = match.index ?? 0;
  const input = match.input ?? "";
  if (start < length || !shape.test(input.slice(start - length, start))) return false;
  return start === length || !/[A-Za-z0-9]/.test(input.charAt(start - length - 1));
}

const AWS_CONTEXT = `${caseless("aws")}[\\w.-]{0,20}?`;

export const PROVIDER_PATTERNS: readonly SecretPattern[] = [
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
  prefixed(
    "gitlab-token",
    /gl(?:pat|dt|rt|rtr|cbt|ptt|ft|imt|agent|oas|soat|ffct)-/,
    /\bglpat-[A-Za-z0-9_-]{10,}|\bgl(?:dt|rt|rtr|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_-]{20,}/,
  ),
  prefixed(
    "aws-access-key-id",
    /AKIA|ASIA|ABIA|ACCA|A3T/,
    /\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}\b/,
  ),
  run("aws-secret-access-key", AWS_SECRET_SPAN, { min: 40, max: 40 }, looksLikeAwsSecret),
  prefixed(
    "aws-secret-access-key",
    new RegExp(caseless("aws")),
    new RegExp(
      `${AWS_CONTEXT}${caseless("secret")}[\\w.-]{0,20}?["']?\\s*[:=]{1,2}>?\\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    ),
    (match) => mixedCase(match[1] ?? ""),
  ),
  prefixed(
    "aws-session-token",
    /FwoGZXIvYXdz|IQoJb3JpZ2lu|[Ss][Ee][Ss][Ss][Ii][Oo][Nn]_?[Tt][Oo][Kk][Ee][Nn]|[Ss]ecurity-[Tt]oken/,
    new RegExp(
      `(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+]{100,}|(?:${AWS_CONTEXT}${caseless("session")}_?${caseless("token")}|${caseless("x-amz-security-token")})["']?\\s*[:=]{1,2}\\s*["']?[A-Za-z0-9/+]{100,}`,
    ),
  ),
  prefixed("google-api-key", /AIza/, /\bAIza[0-9A-Za-z_-]{35}/),
  prefixed("google-oauth-client-secret", /GOCSPX-/, /\bGOCSPX-[A-Za-z0-9_-]{28}/),
  prefixed("google-oauth-refresh-token", /1\/\/0/, /\b1\/\/0[A-Za-z0-9_-]{40,}/),
  prefixed("google-oauth-access-token", /ya29\./, /\bya29\.[A-Za-z0-9_-]{30,}/),
  prefixed(
    "slack-token",
    /xox[abposre]-|xoxe\.|xapp-/,
    /\bxox[abposr]-[A-Za-z0-9-]{10,}|\bxoxe(?:\.xox[bp])?-\d-[A-Za-z0-9-]{20,}|\bxapp-\d-[A-Z0-9]{9,}-\d+-[a-f0-9]{20,}/,
  ),
  prefixed(
    "slack-webhook",
    /hooks\.slack\.com\//,
    /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{20,}/,
  ),
  prefixed("npm-token", /npm_/, /\bnpm_[A-Za-z0-9]{30,}/),
  prefixed("pypi-token", /pypi-AgEIcHlwaS5vcmc/, /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}/),
  prefixed(
    "stripe-key",
    /[sr]k_(?:live|test)_|pk_live_/,
    /\b(?:(?:sk|rk)_(?:live|test)|pk_live)_[A-Za-z0-9]{16,}/,
  ),
  prefixed("stripe-webhook-secret", /whsec_/, /\bwhsec_[A-Za-z0-9+/]{32,}/),
  prefixed(
    "twilio-key",
    /SK|AC/,
    /\b(?:SK|AC)[0-9a-fA-F]{32}\b/,
    (match) => /[a-fA-F]/.test(match[0].slice(2)) && /[0-9]/.test(match[0]),
  ),
  prefixed("sendgrid-api-key", /SG\./, /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/),
  prefixed(
    "discord-bot-token",
    /\.[A-Za-z0-9_-]{6}\./,
    /\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b/,
    discordUserId,
  ),
  prefixed(
    "discord-webhook",
    /discord(?:app)?\.com\/api\//,
    /discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d{5,}\/[A-Za-z0-9_-]{30,}/,
  ),
  prefixed("mailchimp-api-key", /-us\d/, /-us\d{1,2}\b/, (match) =>
    before(match, 32, /^[0-9a-f]+$/),
  ),
  prefixed("telegram-bot-token", /:AA/, /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/),
  prefixed(
    "square-token",
    /sq0atp-|sq0csp-|EAAA/,
    /\bsq0atp-[A-Za-z0-9_-]{22}|\bsq0csp-[A-Za-z0-9_-]{43}|\bEAAA[A-Za-z0-9_-]{60}\b/,
  ),
  prefixed(
    "artifactory-token",
    /AKCp|cmVmdGtu/,
    /\bAKCp[A-Za-z0-9]{69}\b|\bcmVmdGtu[A-Za-z0-9]{56}\b/,
  ),
  prefixed("mailgun-api-key", /key-/, /\b(?:pub)?key-[0-9a-f]{32}\b/),
  prefixed("huggingface-token", /hf_|api_org_/, /\b(?:hf_|api_org_)[A-Za-z0-9]{34}\b/),
  prefixed("databricks-token", /dapi/, /\bdapi[a-f0-9]{32}(?:-\d)?\b/),
  prefixed("digitalocean-token", /do[por]_v1_/, /\bdo[por]_v1_[a-f0-9]{64}\b/),
  prefixed("vault-token", /hv[sb]\./, /\bhvs\.[A-Za-z0-9_-]{90,}|\bhvb\.[A-Za-z0-9_-]{100,}/),
  prefixed(
    "vault-token",
    /s\./,
    /(?<![A-Za-z0-9_.$])s\.[A-Za-z0-9]{24}(?![A-Za-z0-9_.(])/,
    vaultLegacy,
  ),
  prefixed("terraform-token", /\.atlasv1\./, /\.atlasv1\.[A-Za-z0-9_=-]{60,70}/, (match) =>
    before(match, 14, /^[A-Za-z0-9]+$/),
  ),
  prefixed("linear-api-key", /lin_api_/, /\blin_api_[A-Za-z0-9]{40}\b/),
  prefixed(
    "notion-token",
    /secret_|ntn_/,
    /\bsecret_[A-Za-z0-9]{43}\b|\bntn_[0-9]{11}[A-Za-z0-9]{35}\b/,
    (match) => mixedCase(match[0]),
  ),
  prefixed(
    "newrelic-key",
    /NR(?:AK|II|JS|AA|IQ)-/,
    /\bNRAK-[A-Z0-9]{27}\b|\bNRII-[A-Za-z0-9_-]{32}\b|\bNRJS-[a-f0-9]{19}\b|\bNRAA-[a-f0-9]{27}\b|\bNRIQ-[A-Za-z0-9_-]{32}\b/,
  ),
  prefixed(
    "sentry-token",
    /sntry[su]_/,
    /\bsntrys_eyJ[A-Za-z0-9+/=_-]{60,}|\bsntryu_[a-f0-9]{64}\b/,
  ),
  prefixed(
    "sentry-token",
    /[Ss]entry/,
    /@[A-Za-z0-9.-]*[Ss]entry[A-Za-z0-9.-]*(?::\d+)?\/\d+/,
    (match) => before(match, 32, /^[0-9a-f]+$/) || before(match, 65, /^[0-9a-f]{32}:[0-9a-f]{32}$/),
  ),
  prefixed("shopify-token", /shp(?:at|ss|ca|pa)_/, /\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b/),
  prefixed("pulumi-token", /pul-/, /\bpul-[a-f0-9]{40}\b/),
  prefixed(
    "doppler-token",
    /dp\.(?:pt|st|sa|ct|scim|audit)\./,
    /\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}\b/,
  ),
  prefixed("azure-storage-key", /AccountKey=/, /AccountKey=[A-Za-z0-9+/]{86}==/),
  prefixed("azure-sas-signature", /sig=/, /[?&;]sig=([A-Za-z0-9%+/]{43,60})/, sasSignature),
  prefixed("groq-api-key", /gsk_/, /\bgsk_[A-Za-z0-9]{52}\b/),
  prefixed("xai-api-key", /xai-/, /\bxai-[A-Za-z0-9]{80}\b/),
  prefixed("replicate-token", /r8_/, /\br8_[A-Za-z0-9]{37}\b/),
  prefixed(
    "grafana-token",
    /glc_|glsa_/,
    /\bglc_[A-Za-z0-9+/]{32,400}={0,2}|\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b/,
  ),
  prefixed("postman-api-key", /PMAK-/, /\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b/),
  prefixed(
    "age-secret-key",
    /AGE-SECRET-KEY-1/,
    /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/,
  ),
];
