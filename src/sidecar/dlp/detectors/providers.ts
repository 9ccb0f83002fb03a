/**
 * Tokens of code hosts, clouds and AI providers, PURE, after the issuers' published formats (and
 * the public rule sets that collect them). Each starts with a fixed TRIGGER that the index looks
 * for first (detector.ts). Where a format is loose, a check (character mix, what a part decodes
 * to) keeps ordinary text from matching. Well-known prefixes match from 10 characters on, so a
 * token cut in two shows. A distinctive prefix needs no word boundary before it (`xghp_...` is
 * still a token); a short or common one (`SK`, `key-`) does. Nor is a token's END checked after a
 * distinctive prefix: garbage glued after it (`AKIA` + 16 + `XYZ`, `ghp_` + 36 + `xyz`) leaves the
 * token in plain sight. Only where the prefix is weak (`EAAA`, found inside any base64 data;
 * `key-`; Twilio's `SK`/`AC`) must the next character not be one of the token's own alphabet.
 */
import { charClass, someRun } from "../char-runs.js";
import { entropy } from "../exfil-shapes.js";
import {
  type SecretPattern,
  START,
  caseless,
  custom,
  expand,
  mixedCase,
  prefixed,
  run,
} from "./detector.js";

/** Base64's characters and its padding: an AWS secret stands alone between none of them. */
const AWS_SECRET_SPAN = charClass(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
);

/**
 * A 40-character AWS secret: upper, lower and digits, with a / or +, standing alone, random (a
 * path of 40 characters, `schema/blob/master/packages/x509/LICENSE`, has words between its
 * slashes and a lower entropy).
 */
function looksLikeAwsSecret(match: string): boolean {
  if (match.includes("=") || !mixedCase(match) || !/[/+]/.test(match)) return false;
  if (match.split("/").some((segment) => /^[a-z]{4,}$|^[A-Z][a-z]{3,}$/.test(segment))) {
    return false;
  }
  return entropy(match) >= 4.3;
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

/** True when the `length` characters before the match are `shape`, with no more of them. */
export function before(match: RegExpMatchArray, length: number, shape: RegExp): boolean {
  const start = match.index ?? 0;
  const input = match.input ?? "";
  if (start < length || !shape.test(input.slice(start - length, start))) return false;
  return start === length || !/[A-Za-z0-9]/.test(input.charAt(start - length - 1));
}

const AWS_CONTEXT = `${caseless("aws")}[\\w.-]{0,20}?`;
const HEX = charClass("0123456789abcdefABCDEF");
const ALNUM = charClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
const TOKEN_DOT = charClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

const TWILIO = new RegExp(`${START}(?:SK|AC)[0-9a-fA-F]{32}(?![0-9a-fA-F])`, "y");
/** Twilio API key (SK) and account (AC) ids: two letters and 32 hex, found from hex runs. */
function twilio(text: string, loose: boolean): boolean {
  return someRun(text, HEX, 32, (_start, end) => {
    // The id ends the run: `AC` is hex, so the run holds it; `SK` stands right before the run.
    const at = end - 34;
    if (at < 0) return false;
    const id = text.slice(at, end);
    if (!/[a-fA-F]/.test(id.slice(2)) || !/[0-9]/.test(id)) return false;
    TWILIO.lastIndex = loose ? 0 : at;
    return TWILIO.test(loose ? id : text);
  });
}

/** A legacy Vault token: `s.` and 24 letters and digits of mixed case, standing alone. */
function vaultLegacy(text: string, loose: boolean): boolean {
  return someRun(text, ALNUM, 24, (start, end) => {
    if (end - start !== 24 || text.charAt(end) === "." || text.charAt(end) === "(") return false;
    if (text.charCodeAt(start - 1) !== 0x2e || text.charCodeAt(start - 2) !== 0x73) return false;
    if (!loose && /[A-Za-z0-9_.$]/.test(text.charAt(start - 3))) return false;
    return mixedCase(text.slice(start, end));
  });
}

const DISCORD =
  /(?<![A-Za-z0-9_-])[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_-])/g;
/** A Discord bot token: three dotted parts, the first a user id in base64 (from long runs). */
function discordBot(text: string): boolean {
  return someRun(text, TOKEN_DOT, 59, (start, end) => {
    if (!text.slice(start, end).includes(".")) return false;
    for (const match of text.slice(Math.max(0, start - 1), end + 1).matchAll(DISCORD)) {
      if (discordUserId(match)) return true;
    }
    return false;
  });
}

export const PROVIDER_PATTERNS: readonly SecretPattern[] = [
  prefixed("anthropic-api-key", ["sk-ant-"], /sk-ant-(?:api|oat|admin|sid)\d\d-[A-Za-z0-9_-]{10,}/),
  prefixed(
    "openai-api-key",
    ["sk-"],
    /sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}/,
  ),
  prefixed(
    "github-token",
    ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
    /gh[pousr]_[A-Za-z0-9]{10,}|github_pat_[A-Za-z0-9_]{20,}/,
  ),
  prefixed(
    "gitlab-token",
    [
      "glpat-",
      ...expand(
        ["gl"],
        ["dt-", "rt-", "rtr-", "cbt-", "ptt-", "ft-", "imt-", "agent-", "oas-", "soat-", "ffct-"],
      ),
    ],
    /glpat-[A-Za-z0-9_-]{10,}|gl(?:dt|rt|rtr|cbt|ptt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_-]{20,}/,
  ),
  prefixed("gitlab-token", ["GR1348941"], /GR1348941[A-Za-z0-9_-]{20}/),
  prefixed(
    "aws-access-key-id",
    ["AKIA", "ASIA", "ABIA", "ACCA", "A3T", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA"],
    /(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[0-9A-Z]{16}/,
  ),
  run("aws-secret-access-key", AWS_SECRET_SPAN, { min: 40, max: 40 }, looksLikeAwsSecret),
  prefixed(
    "aws-secret-access-key",
    ["aws"],
    new RegExp(
      `${AWS_CONTEXT}${caseless("secret")}[\\w.-]{0,20}?["']?\\s*[:=]{1,2}>?\\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    ),
    (match) => mixedCase(match[1] ?? ""),
    { caseless: true },
  ),
  prefixed(
    "aws-session-token",
    ["FwoGZXIvYXdz", "IQoJb3JpZ2lu"],
    /(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+]{100,}/,
  ),
  prefixed(
    "aws-session-token",
    ["aws", "x-amz-security-token"],
    new RegExp(
      `(?:${AWS_CONTEXT}${caseless("session")}_?${caseless("token")}|${caseless("x-amz-security-token")})["']?\\s*[:=]{1,2}\\s*["']?[A-Za-z0-9/+]{100,}`,
    ),
    undefined,
    { caseless: true },
  ),
  prefixed("google-api-key", ["AIza"], /AIza[0-9A-Za-z_-]{35}/),
  prefixed("google-oauth-client-secret", ["GOCSPX-"], /GOCSPX-[A-Za-z0-9_-]{28}/),
  prefixed("google-oauth-refresh-token", ["1//0"], /1\/\/0[A-Za-z0-9_-]{40,}/),
  prefixed("google-oauth-access-token", ["ya29."], /ya29\.[A-Za-z0-9_-]{30,}/),
  prefixed(
    "slack-token",
    [...expand(["xox"], ["a-", "b-", "p-", "o-", "s-", "r-", "e-", "e."]), "xapp-"],
    /xox[abposr]-[A-Za-z0-9-]{10,}|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9-]{20,}|xapp-\d-[A-Z0-9]{9,}-\d+-[a-f0-9]{20,}/,
  ),
  prefixed(
    "slack-webhook",
    ["hooks.slack.com/"],
    /hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{20,}/,
  ),
  prefixed("npm-token", ["npm_"], /npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])|npm_[A-Za-z0-9]{30,}/),
  prefixed("pypi-token", ["pypi-AgEIcHlwaS5vcmc"], /pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}/),
  prefixed(
    "stripe-key",
    ["sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_"],
    /(?:(?:sk|rk)_(?:live|test)|pk_live)_[A-Za-z0-9]{16,}/,
  ),
  prefixed("stripe-webhook-secret", ["whsec_"], /whsec_[A-Za-z0-9+/]{32,}/),
  custom("twilio-key", twilio),
  prefixed("sendgrid-api-key", ["SG."], /SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/),
  custom("discord-bot-token", discordBot),
  prefixed(
    "discord-webhook",
    ["discord.com/api/", "discordapp.com/api/"],
    /discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d{5,}\/[A-Za-z0-9_-]{30,}/,
  ),
  prefixed(
    "mailchimp-api-key",
    ["-us"],
    /-us\d{1,2}/,
    (match) => before(match, 32, /^[0-9a-f]+$/),
    { lead: 33 },
  ),
  prefixed(
    "telegram-bot-token",
    [":AA"],
    /(?<![A-Za-z0-9])\d{8,10}:AA[A-Za-z0-9_-]{33}/,
    undefined,
    { lead: 11 },
  ),
  prefixed(
    "square-token",
    ["sq0atp-", "sq0csp-", "EAAA"],
    /sq0atp-[A-Za-z0-9_-]{22}|sq0csp-[A-Za-z0-9_-]{43}|EAAA[A-Za-z0-9_-]{60}(?![A-Za-z0-9_-])/,
  ),
  prefixed(
    "artifactory-token",
    ["AKCp", "cmVmdGtu"],
    new RegExp(`${START}(?:AKCp[A-Za-z0-9]{69}|cmVmdGtu[A-Za-z0-9]{56})`),
  ),
  prefixed(
    "mailgun-api-key",
    ["key-"],
    new RegExp(`(?:${START}|(?<=${START}pub))key-[0-9a-f]{32}(?![0-9a-f])`),
  ),
  prefixed(
    "huggingface-token",
    ["hf_", "api_org_"],
    new RegExp(`${START}(?:hf_|api_org_)[A-Za-z0-9]{34}`),
  ),
  prefixed("databricks-token", ["dapi"], new RegExp(`${START}dapi[a-f0-9]{32}(?:-\\d)?`)),
  prefixed("digitalocean-token", ["dop_v1_", "doo_v1_", "dor_v1_"], /do[por]_v1_[a-f0-9]{64}/),
  prefixed("vault-token", ["hvs.", "hvb."], /hvs\.[A-Za-z0-9_-]{90,}|hvb\.[A-Za-z0-9_-]{100,}/),
  custom("vault-token", vaultLegacy),
  prefixed(
    "terraform-token",
    [".atlasv1."],
    /\.atlasv1\.[A-Za-z0-9_=-]{60,70}/,
    (match) => before(match, 14, /^[A-Za-z0-9]+$/),
    { lead: 15 },
  ),
  prefixed("linear-api-key", ["lin_api_"], /lin_api_[A-Za-z0-9]{40}/),
  prefixed(
    "notion-token",
    ["secret_", "ntn_"],
    new RegExp(`${START}(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35})`),
    (match) => mixedCase(match[0]),
  ),
  prefixed(
    "newrelic-key",
    ["NRAK-", "NRII-", "NRJS-", "NRAA-", "NRIQ-", "NRRA-", "NRSP-"],
    /NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|NRJS-[a-f0-9]{19}|NRAA-[a-f0-9]{27}|NR(?:IQ|RA|SP)-[A-Za-z0-9_-]{32,42}/,
  ),
  prefixed(
    "sentry-token",
    ["sntrys_", "sntryu_"],
    /sntrys_eyJ[A-Za-z0-9+/=_-]{60,}|sntryu_[a-f0-9]{64}/,
  ),
  prefixed(
    "sentry-token",
    ["sentry"],
    /@[A-Za-z0-9.-]*[Ss]entry[A-Za-z0-9.-]*(?::\d+)?\/\d+/,
    (match) => before(match, 32, /^[0-9a-f]+$/) || before(match, 65, /^[0-9a-f]{32}:[0-9a-f]{32}$/),
    { caseless: true, lead: 160 },
  ),
  prefixed(
    "shopify-token",
    ["shpat_", "shpss_", "shpca_", "shppa_"],
    /shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}/,
  ),
  prefixed("pulumi-token", ["pul-"], new RegExp(`${START}pul-[a-f0-9]{40}`)),
  prefixed(
    "doppler-token",
    expand(["dp."], ["pt.", "st.", "sa.", "ct.", "scim.", "audit."]),
    /dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}/,
  ),
  prefixed("azure-storage-key", ["AccountKey="], /AccountKey=[A-Za-z0-9+/]{86}==/),
  prefixed("azure-sas-signature", ["sig="], /(?<=[?&;])sig=([A-Za-z0-9%+/]{43,60})/, sasSignature),
  prefixed(
    "azure-ad-client-secret",
    ["Q~"],
    /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/,
    (match) => mixedCase(match[0]),
    { lead: 5 },
  ),
  prefixed("groq-api-key", ["gsk_"], /gsk_[A-Za-z0-9]{52}/),
  prefixed("xai-api-key", ["xai-"], /xai-[A-Za-z0-9]{80}/),
  prefixed("replicate-token", ["r8_"], new RegExp(`${START}r8_[A-Za-z0-9]{37}`)),
  prefixed(
    "grafana-token",
    ["glc_", "glsa_"],
    /glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}/,
  ),
  prefixed("postman-api-key", ["PMAK-"], /PMAK-[a-f0-9]{24}-[a-f0-9]{34}/),
  prefixed(
    "age-secret-key",
    ["AGE-SECRET-KEY-1"],
    /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/,
  ),
];
