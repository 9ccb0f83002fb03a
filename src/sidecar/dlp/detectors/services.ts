/**
 * Tokens of hosted services beyond the code hosts, clouds and AI providers of providers.ts, PURE,
 * after the issuers' published formats and the public rule sets (gitleaks' default rules) that
 * collect them; and credentials written into a URL (`scheme://user:password@host`). Each starts
 * with a fixed trigger (detector.ts).
 */
import { type SecretPattern, START, mixedCase, prefixed } from "./detector.js";
import { looksLikeSecretValue } from "./generic-assignments.js";

/** True when a URL's password (group 1) looks written out, not a placeholder or a reference. */
function urlPassword(match: RegExpMatchArray): boolean {
  let value = match[1] ?? "";
  try {
    value = decodeURIComponent(value);
  } catch {
    // Kept as sent.
  }
  return looksLikeSecretValue(value, true);
}

export const SERVICE_PATTERNS: readonly SecretPattern[] = [
  prefixed("alibaba-access-key", ["LTAI"], new RegExp(`${START}LTAI[A-Za-z0-9]{20}`), (match) =>
    mixedCase(match[0]),
  ),
  prefixed("atlassian-api-token", ["ATATT3"], /ATATT3[A-Za-z0-9_=-]{100,}/),
  prefixed("clojars-token", ["CLOJARS_"], /CLOJARS_[a-z0-9]{60}/),
  prefixed("dynatrace-token", ["dt0c01."], /dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}/i, undefined, {
    caseless: true,
  }),
  prefixed("easypost-api-key", ["EZAK", "EZTK"], /EZ[AT]K[A-Za-z0-9]{54}/),
  prefixed("flutterwave-key", ["FLWSECK", "FLWPUBK"], /FLW(?:SEC|PUB)K(?:_TEST)?-[a-h0-9]{32}-X/),
  prefixed("frameio-token", ["fio-u-"], /fio-u-[A-Za-z0-9_=-]{64}/),
  prefixed("heroku-api-key", ["HRKU-"], /HRKU-[A-Za-z0-9_-]{58,60}/),
  prefixed("mapbox-secret-token", ["sk.eyJ"], /sk\.eyJ[A-Za-z0-9_-]{30,}\.[A-Za-z0-9_-]{20,}/),
  prefixed(
    "planetscale-token",
    ["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
    /pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=_.-]{32,64}/,
  ),
  prefixed("prefect-api-key", ["pnu_"], new RegExp(`${START}pnu_[A-Za-z0-9]{36}`)),
  prefixed("readme-api-key", ["rdme_"], /rdme_[a-z0-9]{70}/),
  prefixed("rubygems-api-key", ["rubygems_"], /rubygems_[a-f0-9]{48}/),
  prefixed(
    "shippo-api-key",
    ["shippo_live_", "shippo_test_"],
    /shippo_(?:live|test)_[a-fA-F0-9]{40}/,
  ),
  prefixed("typeform-token", ["tfp_"], /tfp_[A-Za-z0-9_.=-]{59}/),
  prefixed(
    "flyio-token",
    ["fo1_", "fm1a_", "fm1r_", "fm2_"],
    /fo1_[\w-]{43}|fm(?:1[ar]|2)_[A-Za-z0-9+/]{100,}={0,3}/,
  ),
  prefixed(
    "supabase-key",
    ["sbp_", "sb_secret_"],
    new RegExp(`${START}(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{31,})`),
  ),
  prefixed("perplexity-api-key", ["pplx-"], /pplx-[A-Za-z0-9]{48}/),
  prefixed(
    "langsmith-api-key",
    ["lsv2_pt_", "lsv2_sk_"],
    /lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}/,
  ),
  prefixed("docker-hub-token", ["dckr_pat_", "dckr_oat_"], /dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}/),
  prefixed(
    "sourcegraph-token",
    ["sgp_"],
    new RegExp(`${START}sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}`),
  ),
  prefixed("sonarqube-token", ["squ_", "sqp_", "sqa_"], new RegExp(`${START}sq[upa]_[a-f0-9]{40}`)),
  prefixed("brevo-api-key", ["xkeysib-"], /xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}/),
  prefixed(
    "octopus-deploy-key",
    ["API-"],
    new RegExp(`${START}API-[A-Z0-9]{26}(?![A-Za-z0-9])`),
    (match) => /[0-9]/.test(match[0].slice(4)) && /[A-Z]/.test(match[0].slice(4)),
  ),
  prefixed(
    "infracost-api-key",
    ["ico-"],
    new RegExp(`${START}ico-[A-Za-z0-9]{32}(?![A-Za-z0-9])`),
    (match) => mixedCase(match[0]),
  ),
  prefixed("scalingo-token", ["tk-us-"], /tk-us-[\w-]{48}/),
  prefixed(
    "duffel-token",
    ["duffel_test_", "duffel_live_"],
    /duffel_(?:test|live)_[A-Za-z0-9_=-]{43}/,
  ),
  prefixed(
    "url-credentials",
    ["://"],
    /:\/\/[^\s:/@"'<>]{1,64}:([^\s/@"'<>]{1,128})@[A-Za-z0-9]/,
    urlPassword,
    { boundless: true },
  ),
];
