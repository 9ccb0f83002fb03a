// The built-in detectors, one by one: a value of each published format is found, and a near miss
// (too short, wrong checksum, a placeholder) is not. Every value is built here at run time from
// pieces, so this file holds none of them written out. All values are fake.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, it } from "node:test";
import { BIP39_ENGLISH } from "../../src/sidecar/dlp/bip39-english.js";
import { PROVIDER_PATTERNS } from "../../src/sidecar/dlp/detectors/providers.js";
import { SERVICE_PATTERNS } from "../../src/sidecar/dlp/detectors/services.js";
import { SECRET_PATTERNS, firstSecret } from "../../src/sidecar/dlp/secret-patterns.js";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** `n` characters of `alphabet`, the same on every run. */
function r(alphabet: string, n: number, seed = 1): string {
  const bytes = crypto.createHash("sha512").update(`${alphabet}${n}${seed}`).digest();
  let out = "";
  for (let i = 0; i < n; i += 1)
    out += alphabet.charAt(((bytes[i % 64] ?? 0) + i * 7) % alphabet.length);
  return out;
}
const j = (...parts: string[]): string => parts.join("");

function kinds(text: string): string[] {
  return SECRET_PATTERNS.filter((p) => p.find(text)).map((p) => p.kind);
}

function base58check(payload: Buffer): string {
  const sum = crypto
    .createHash("sha256")
    .update(crypto.createHash("sha256").update(payload).digest())
    .digest();
  let value = BigInt(`0x${Buffer.concat([payload, sum.subarray(0, 4)]).toString("hex")}`);
  let out = "";
  while (value > 0n) {
    out = B58.charAt(Number(value % 58n)) + out;
    value /= 58n;
  }
  return out;
}

function luhnComplete(body: string): string {
  for (let d = 0; d < 10; d += 1) {
    const digits = `${body}${d}`;
    let sum = 0;
    for (let i = 0; i < digits.length; i += 1) {
      let x = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    if (sum % 10 === 0) return digits;
  }
  throw new Error("unreachable");
}

function mnemonic(words: number): string {
  const entropy = crypto
    .createHash("sha256")
    .update(`seed${words}`)
    .digest()
    .subarray(0, (words * 11 - words / 3) / 8);
  const hash = crypto.createHash("sha256").update(entropy).digest();
  const check = (hash[0] ?? 0).toString(2).padStart(8, "0");
  const bits =
    [...entropy].map((b) => b.toString(2).padStart(8, "0")).join("") + check.slice(0, words / 3);
  return Array.from(
    { length: words },
    (_, i) => BIP39_ENGLISH[parseInt(bits.slice(i * 11, i * 11 + 11), 2)],
  ).join(" ");
}

/** Key material after a PEM header (fake). */
const KEY_BODY = r(ALNUM, 64, 9);
const JWT_HEAD = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");
const JWT_BODY = Buffer.from('{"sub":"fake"}').toString("base64url");
const discordId = Buffer.from("123456789012345678").toString("base64").replace(/=+$/, "");

const cases: [string, string, string][] = [
  [
    "aws-access-key-id",
    j("AKIA", r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    j("AKIA", r("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 12)),
  ],
  [
    "aws-access-key-id",
    j("ASIA", r("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 2)),
    j("ASIA", r("abcdef", 16)),
  ],
  [
    "aws-secret-access-key",
    j("aws_secret_access_key = ", r(ALNUM, 40, 3)),
    j("aws_secret_access_key = ", r("abc", 40)),
  ],
  [
    "aws-session-token",
    j("aws_session_token=", r(ALNUM, 120)),
    j("aws_session_token=", r(ALNUM, 60)),
  ],
  ["github-token", j("ghp", "_", r(ALNUM, 36)), j("ghp", "_", "short")],
  ["github-token", j("gho", "_", r(ALNUM, 36)), "gho-abc"],
  ["github-token", j("ghs", "_", r(ALNUM, 36)), "ghs_x"],
  ["github-token", j("github_pat", "_", r(ALNUM, 22), "_", r(ALNUM, 59)), "github_pat_x"],
  ["gitlab-token", j("glpat", "-", r(ALNUM, 20)), "glpat-x"],
  ["gitlab-token", j("gldt", "-", r(ALNUM, 20)), j("gldt", "-", r(ALNUM, 8))],
  ["gitlab-token", j("glrt", "-", r(ALNUM, 20)), j("glrt", "-", r(ALNUM, 8))],
  ["slack-token", j("xoxb", "-", "1234567890-", r(ALNUM, 24)), "xoxb-1"],
  ["slack-token", j("xoxp", "-", "1234567890-", r(ALNUM, 24)), "xoxq-1234567890-abcdefghijkl"],
  [
    "slack-webhook",
    j("https://hooks.slack", ".com/services/T", r(ALNUM, 8), "/B", r(ALNUM, 8), "/", r(ALNUM, 24)),
    "https://hooks.slack.com/services/",
  ],
  ["stripe-key", j("sk_live", "_", r(ALNUM, 24)), "sk_live_x"],
  ["stripe-key", j("rk_live", "_", r(ALNUM, 24)), "rk_lives_abcdefghijklmnopqrstuvwx"],
  ["stripe-key", j("pk_live", "_", r(ALNUM, 24)), j("pk_test", "_", r(ALNUM, 24))],
  ["stripe-webhook-secret", j("whsec", "_", r(ALNUM, 32)), j("whsec", "_", r(ALNUM, 10))],
  ["twilio-key", j("SK", r(HEX, 32)), j("SK", r(HEX, 31))],
  ["twilio-key", j("AC", r(HEX, 32, 2)), j("AC", r("ghijkl", 32))],
  [
    "sendgrid-api-key",
    j("SG", ".", r(ALNUM, 22), ".", r(ALNUM, 43)),
    j("SG", ".", r(ALNUM, 22), ".", r(ALNUM, 20)),
  ],
  ["npm-token", j("npm", "_", r(ALNUM, 36)), "npm_install"],
  ["pypi-token", j("pypi-AgEIcHlwaS5vcmc", r(ALNUM, 50)), j("pypi-AgEI", r(ALNUM, 50))],
  ["openai-api-key", j("sk-proj", "-", r(ALNUM, 40)), "sk-proj-short"],
  ["openai-api-key", j("sk-svcacct", "-", r(ALNUM, 40)), "sk-svcacct-x"],
  ["openai-api-key", j("sk-", r(ALNUM, 20), "T3Blbk", "FJ", r(ALNUM, 20)), j("sk-", r(ALNUM, 48))],
  ["anthropic-api-key", j("sk-ant", "-api03-", r(ALNUM, 40)), "sk-ant-notakey"],
  ["anthropic-api-key", j("sk-ant", "-admin01-", r(ALNUM, 40)), "sk-ant-admin-abcdefghijklmnop"],
  ["google-api-key", j("AIza", r(ALNUM, 35)), j("AIza", r(ALNUM, 20))],
  ["google-oauth-client-secret", j("GOCSPX", "-", r(ALNUM, 28)), j("GOCSPX", "-", r(ALNUM, 10))],
  ["google-oauth-refresh-token", j("1//0", r(ALNUM, 60)), j("1//0", r(ALNUM, 20))],
  [
    "discord-bot-token",
    j(discordId, ".", r(ALNUM, 6), ".", r(ALNUM, 38)),
    j("MTIzNDU2Nzg5MGFiY2RlZmdo", ".", r(ALNUM, 6), ".", r(ALNUM, 38)),
  ],
  [
    "discord-webhook",
    j("https://discord", ".com/api/webhooks/123456789012345678/", r(ALNUM, 68)),
    "https://discord.com/api/webhooks/",
  ],
  [
    "jwt",
    j(JWT_HEAD, ".", JWT_BODY, ".", r(ALNUM, 43)),
    j(Buffer.from('{"x":1,"y":2}').toString("base64url"), ".", JWT_BODY, ".sig"),
  ],
  [
    "private-key",
    j("-----BEGIN RSA ", "PRIVATE KEY-----\n", KEY_BODY),
    "-----BEGIN PUBLIC KEY-----",
  ],
  [
    "private-key",
    j("-----BEGIN EC ", "PRIVATE KEY-----\r\n", KEY_BODY),
    "-----BEGIN CERTIFICATE-----",
  ],
  [
    "private-key",
    j("-----BEGIN ENCRYPTED ", "PRIVATE KEY-----\\n", KEY_BODY),
    "BEGIN ENCRYPTED PRIVATE KEY",
  ],
  [
    "private-key",
    j("-----BEGIN ", "PRIVATE KEY-----\n", KEY_BODY),
    j("-----BEGIN ", "PRIVATE KEY-----\n${body}"),
  ],
  [
    "private-key",
    j("-----BEGIN OPENSSH ", "PRIVATE KEY-----\n", KEY_BODY),
    "-----BEGIN OPENSSH PUBLIC KEY-----",
  ],
  [
    "private-key",
    j("-----BEGIN PGP ", "PRIVATE KEY BLOCK-----\n\n", KEY_BODY),
    "-----BEGIN PGP PUBLIC KEY BLOCK-----",
  ],
  ["mailchimp-api-key", j(r(HEX, 32), "-us", "12"), j(r(HEX, 30), "-us12")],
  ["telegram-bot-token", j("123456789:", "AA", r(ALNUM, 33)), j("123456789:", "AB", r(ALNUM, 33))],
  ["square-token", j("sq0atp", "-", r(ALNUM, 22)), j("sq0atp", "-", r(ALNUM, 10))],
  ["square-token", j("sq0csp", "-", r(ALNUM, 43)), j("sq0csp", "-", r(ALNUM, 10))],
  ["square-token", j("EAAA", r(ALNUM, 60)), j("EAAA", r(ALNUM, 30))],
  ["artifactory-token", j("AKCp", r(ALNUM, 69)), j("AKCp", r(ALNUM, 30))],
  ["mailgun-api-key", j("key", "-", r(HEX, 32)), j("key", "-", r(HEX, 20))],
  ["huggingface-token", j("hf", "_", r(ALNUM, 34)), j("hf", "_", r(ALNUM, 20))],
  ["databricks-token", j("dapi", r(HEX, 32)), j("dapi", r(HEX, 20))],
  ["digitalocean-token", j("dop", "_v1_", r(HEX, 64)), j("dop", "_v2_", r(HEX, 64))],
  ["digitalocean-token", j("doo", "_v1_", r(HEX, 64)), j("doo", "_v1_", r(HEX, 40))],
  ["vault-token", j("hvs", ".", r(ALNUM, 95)), j("hvs", ".", r(ALNUM, 20))],
  ["vault-token", j("hvb", ".", r(ALNUM, 140)), j("hvb", ".", r(ALNUM, 20))],
  ["vault-token", j("s", ".", "aB3", r(ALNUM, 21)), "s.getElementsByTagNameNS"],
  [
    "terraform-token",
    j(r(ALNUM, 14), ".atlas", "v1.", r(ALNUM, 64)),
    j(r(ALNUM, 14), ".atlasv2.", r(ALNUM, 64)),
  ],
  ["linear-api-key", j("lin", "_api_", r(ALNUM, 40)), j("lin", "_api_", r(ALNUM, 20))],
  [
    "notion-token",
    j("secret", "_", r(ALNUM, 43)),
    j("secret", "_", r("abcdefghijklmnopqrstuvwxyz", 43)),
  ],
  ["notion-token", j("ntn", "_", "12345678901", r(ALNUM, 35)), j("ntn", "_", r(ALNUM, 20))],
  [
    "newrelic-key",
    j("NRAK", "-", r("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27)),
    j("NRAK", "-", r("ABCDEF", 10)),
  ],
  ["sentry-token", j("sntryu", "_", r(HEX, 64)), j("sntryu", "_", r(HEX, 30))],
  [
    "sentry-token",
    j("https://", r(HEX, 32), "@o1.ingest.sentry", ".io/123"),
    "https://public@o1.ingest.sentry.io/123",
  ],
  ["shopify-token", j("shpat", "_", r(HEX, 32)), j("shpat", "_", r(HEX, 20))],
  ["shopify-token", j("shpss", "_", r(HEX, 32)), j("shpxx", "_", r(HEX, 32))],
  ["pulumi-token", j("pul", "-", r(HEX, 40)), j("pul", "-", r(HEX, 20))],
  ["doppler-token", j("dp", ".pt.", r(ALNUM, 43)), j("dp", ".pt.", r(ALNUM, 20))],
  [
    "azure-storage-key",
    j("AccountName=x;AccountKey=", r(ALNUM, 86), "=="),
    j("AccountKey=", r(ALNUM, 40)),
  ],
  [
    "azure-sas-signature",
    j("?sv=2022-11-02&sig=", encodeURIComponent(crypto.randomBytes(32).toString("base64"))),
    "?sig=abc",
  ],
  ["groq-api-key", j("gsk", "_", r(ALNUM, 52)), j("gsk", "_", r(ALNUM, 20))],
  ["xai-api-key", j("xai", "-", r(ALNUM, 80)), j("xai", "-", r(ALNUM, 30))],
  ["replicate-token", j("r8", "_", r(ALNUM, 37)), j("r8", "_", r(ALNUM, 10))],
  ["grafana-token", j("glc", "_", r(ALNUM, 40)), j("glc", "_", r(ALNUM, 10))],
  ["grafana-token", j("glsa", "_", r(ALNUM, 32), "_", r(HEX, 8)), j("glsa", "_", r(ALNUM, 10))],
  ["postman-api-key", j("PMAK", "-", r(HEX, 24), "-", r(HEX, 34)), j("PMAK", "-", r(HEX, 10))],
];

/** Formats added for breadth (gitleaks' common rules): a positive and a near miss each. */
const B32AGE = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
const LOWER_DIGITS = "abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const breadth: [string, string, string][] = [
  ["age-secret-key", j("AGE-SECRET-KEY-1", r(B32AGE, 58)), j("AGE-SECRET-KEY-1", r(B32AGE, 20))],
  ["aws-access-key-id", j("AROA", r(UPPER_DIGITS, 16, 4)), j("AROA", r(UPPER_DIGITS, 12))],
  ["aws-access-key-id", j("A3T", "X", r(UPPER_DIGITS, 16, 5)), j("A3T", r("abcdef", 17))],
  ["aws-session-token", j("FwoGZXIvYXdz", r(ALNUM, 120, 6)), j("FwoGZXIvYXdz", r(ALNUM, 40, 6))],
  [
    "aws-session-token",
    j("x-amz-security-token: ", r(ALNUM, 120, 7)),
    j("x-amz-security-token: ", r(ALNUM, 30, 7)),
  ],
  ["slack-token", j("xoxa", "-2-", r(ALNUM, 30)), "xoxa-2"],
  ["slack-token", j("xoxr", "-", r(ALNUM, 30)), j("xoxz", "-", r(ALNUM, 30))],
  ["slack-token", j("xoxe", ".xoxp-1-", r(ALNUM, 40)), "xoxe.xoxp-1-short"],
  [
    "slack-token",
    j("xapp", "-1-A", r(UPPER_DIGITS, 10), "-1234567890-", r(HEX, 64)),
    "xapp-1-short",
  ],
  ["newrelic-key", j("NRII", "-", r(ALNUM, 32)), j("NRII", "-", r(ALNUM, 12))],
  ["newrelic-key", j("NRJS", "-", r(HEX, 19)), j("NRJS", "-", r(HEX, 10))],
  ["newrelic-key", j("NRAA", "-", r(HEX, 27)), j("NRAA", "-", r(HEX, 12))],
  ["gitlab-token", j("glcbt", "-", r(ALNUM, 24)), j("glcbt", "-", r(ALNUM, 8))],
  ["gitlab-token", j("glptt", "-", r(ALNUM, 40)), j("glptt", "-", r(ALNUM, 8))],
  ["gitlab-token", j("gloas", "-", r(ALNUM, 64)), j("gloas", "-", r(ALNUM, 8))],
  ["gitlab-token", j("GR1348941", r(ALNUM, 20)), j("GR1348941", r(ALNUM, 8))],
  ["google-oauth-access-token", j("ya29", ".", r(ALNUM, 60)), j("ya29", ".", r(ALNUM, 10))],
  ["anthropic-api-key", j("sk-ant", "-oat01-", r(ALNUM, 60)), "sk-ant-oat-x"],
  ["openai-api-key", j("sk-admin", "-", r(ALNUM, 40)), "sk-admin-x"],
  ["huggingface-token", j("api_org", "_", r(ALNUM, 34)), j("api_org", "_", r(ALNUM, 20))],
  ["artifactory-token", j("cmVmdGtu", r(ALNUM, 56)), j("cmVmdGtu", r(ALNUM, 30))],
  ["sentry-token", j("sntrys", "_eyJ", r(ALNUM, 80)), j("sntrys", "_eyJ", r(ALNUM, 10))],
  [
    "sentry-token",
    j("https://", r(HEX, 32), ":", r(HEX, 32), "@sentry.example.com/42"),
    j("https://", r(HEX, 20), "@sentry.example.com/42"),
  ],
  ["azure-ad-client-secret", j("aB3", "8Q~", r(ALNUM, 34)), j("aB3", "8Q-", r(ALNUM, 34))],
  ["alibaba-access-key", j("LTAI", r(ALNUM, 20)), j("LTAI", r(ALNUM, 10))],
  ["atlassian-api-token", j("ATATT3", r(ALNUM, 180)), j("ATATT3", r(ALNUM, 40))],
  ["clojars-token", j("CLOJARS", "_", r(LOWER_DIGITS, 60)), j("CLOJARS", "_", r(LOWER_DIGITS, 20))],
  [
    "dynatrace-token",
    j("dt0c01", ".", r(UPPER_DIGITS, 24), ".", r(UPPER_DIGITS, 64)),
    j("dt0c01", ".", r(UPPER_DIGITS, 24)),
  ],
  ["easypost-api-key", j("EZAK", r(ALNUM, 54)), j("EZAK", r(ALNUM, 20))],
  ["flutterwave-key", j("FLWSECK", "_TEST-", r("abcdefgh0123", 32), "-X"), "FLWSECK_TEST-x-X"],
  ["frameio-token", j("fio-u", "-", r(ALNUM, 64)), j("fio-u", "-", r(ALNUM, 20))],
  ["heroku-api-key", j("HRKU", "-AA", r(ALNUM, 58)), j("HRKU", "-", r(ALNUM, 20))],
  [
    "mapbox-secret-token",
    j("sk", ".eyJ", r(ALNUM, 40), ".", r(ALNUM, 22)),
    j("pk", ".eyJ", r(ALNUM, 40), ".", r(ALNUM, 22)),
  ],
  ["planetscale-token", j("pscale_tkn", "_", r(ALNUM, 43)), j("pscale_tkn", "_", r(ALNUM, 10))],
  ["prefect-api-key", j("pnu", "_", r(ALNUM, 36)), j("pnu", "_", r(ALNUM, 20))],
  ["readme-api-key", j("rdme", "_", r(LOWER_DIGITS, 70)), j("rdme", "_", r(LOWER_DIGITS, 20))],
  ["rubygems-api-key", j("rubygems", "_", r(HEX, 48)), j("rubygems", "_", r(HEX, 20))],
  ["shippo-api-key", j("shippo_live", "_", r(HEX, 40)), j("shippo_live", "_", r(HEX, 20))],
  ["typeform-token", j("tfp", "_", r(ALNUM, 59)), j("tfp", "_", r(ALNUM, 20))],
  ["flyio-token", j("fo1", "_", r(ALNUM, 43)), j("fo1", "_", r(ALNUM, 20))],
  ["supabase-key", j("sbp", "_", r(HEX, 40)), j("sbp", "_", r(HEX, 20))],
  ["perplexity-api-key", j("pplx", "-", r(ALNUM, 48)), j("pplx", "-", r(ALNUM, 20))],
  [
    "langsmith-api-key",
    j("lsv2_pt", "_", r(HEX, 32), "_", r(HEX, 10)),
    j("lsv2_pt", "_", r(HEX, 32)),
  ],
  ["docker-hub-token", j("dckr_pat", "_", r(ALNUM, 27)), j("dckr_pat", "_", r(ALNUM, 10))],
  ["sourcegraph-token", j("sgp", "_", r(HEX, 40)), j("sgp", "_", r(HEX, 20))],
  ["sonarqube-token", j("squ", "_", r(HEX, 40)), j("squ", "_", r(HEX, 20))],
  [
    "brevo-api-key",
    j("xkeysib", "-", r(HEX, 64), "-", r(ALNUM, 16)),
    j("xkeysib", "-", r(HEX, 20)),
  ],
  [
    "octopus-deploy-key",
    j("API", "-", r(UPPER_DIGITS, 26)),
    j("API", "-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
  ],
  ["infracost-api-key", j("ico", "-", r(ALNUM, 32)), j("ico", "-", r("abcdef", 32))],
  ["scalingo-token", j("tk-us", "-", r(ALNUM, 48)), j("tk-us", "-", r(ALNUM, 20))],
  ["duffel-token", j("duffel_test", "_", r(ALNUM, 43)), j("duffel_test", "_", r(ALNUM, 10))],
  [
    "url-credentials",
    j("postgres://app:", r(ALNUM, 20), "@db.internal:5432/app"),
    "postgres://postgres:postgres@localhost:5432/app",
  ],
  [
    "url-credentials",
    j("https://deploy:", r(ALNUM, 16), "@git.example.com/repo.git"),
    "https://user:${PASSWORD}@git.example.com/repo.git",
  ],
];

describe("breadth: formats of the public rule sets", () => {
  for (const [kind, positive, nearMiss] of breadth) {
    it(`${kind}: ${positive.slice(0, 10)}... found, a near miss not`, () => {
      assert.ok(kinds(` ${positive} `).includes(kind), `${kind} missed`);
      assert.equal(firstSecret(` ${positive} `), kind, `${kind} missed through the triggers`);
      assert.ok(!kinds(` ${nearMiss} `).includes(kind), `${kind} near miss found`);
    });
  }
});

describe("provider and key detectors", () => {
  for (const [kind, positive, nearMiss] of cases) {
    it(`${kind}: ${positive.slice(0, 12)}... found, a near miss not`, () => {
      assert.ok(kinds(` ${positive} `).includes(kind), `${kind} missed`);
      assert.ok(firstSecret(` ${positive} `) !== null, `${kind} missed through the prefix pass`);
      assert.ok(!kinds(` ${nearMiss} `).includes(kind), `${kind} near miss found`);
    });
  }
});

describe("financial detectors", () => {
  const visa = luhnComplete(`4${r("0123456789", 14)}`);
  const amex = luhnComplete(`37${r("0123456789", 12)}`);
  const wrong = `${visa.slice(0, -1)}${(Number(visa.slice(-1)) + 1) % 10}`;
  const ibanDe = (() => {
    const bban = "370400440532013000";
    const check = 98n - (BigInt(`${bban}131400`) % 97n);
    return `DE${check.toString().padStart(2, "0")}${bban}`;
  })();
  const wif = base58check(
    Buffer.concat([
      Buffer.from([0x80]),
      crypto.createHash("sha256").update("fake").digest(),
      Buffer.from([1]),
    ]),
  );
  const xprv = base58check(
    Buffer.concat([
      Buffer.from("0488ade4", "hex"),
      Buffer.alloc(42, 7),
      crypto.createHash("sha256").update("fake").digest(),
      Buffer.alloc(0),
    ]),
  );
  const fin: [string, string, string][] = [
    ["card-number", visa, wrong],
    ["card-number", visa.replace(/(\d{4})(?=\d)/g, "$1 "), wrong.replace(/(\d{4})(?=\d)/g, "$1 ")],
    ["card-number", amex.replace(/^(\d{4})(\d{6})/, "$1-$2-"), `9${amex.slice(1)}`],
    ["iban", ibanDe, `DE00${ibanDe.slice(4)}`],
    ["iban", ibanDe.replace(/(.{4})(?=.)/g, "$1 "), `${ibanDe.slice(0, -1)}1`],
    ["bitcoin-private-key", wif, `${wif.slice(0, -1)}${wif.endsWith("a") ? "b" : "a"}`],
    ["bip32-private-key", xprv, `${xprv.slice(0, -2)}zz`],
    [
      "bitcoin-address",
      "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
      "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    ],
    [
      "bitcoin-address",
      "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
      "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj1",
    ],
    ["ethereum-private-key", j("PRIVATE_KEY=0x", r(HEX, 64)), j("TX_HASH=0x", r(HEX, 64))],
    ["bip39-seed-phrase", mnemonic(12), `${mnemonic(12).split(" ").slice(0, 11).join(" ")} zoo`],
    [
      "bip39-seed-phrase",
      mnemonic(24),
      `${mnemonic(24).split(" ").slice(0, 23).join(" ")} ${mnemonic(24).endsWith(" zoo") ? "zone" : "zoo"}`,
    ],
  ];
  for (const [kind, positive, nearMiss] of fin) {
    it(`${kind}: found, a near miss (checksum or prefix) not`, () => {
      assert.ok(kinds(` ${positive} `).includes(kind), `${kind} missed`);
      assert.ok(!kinds(` ${nearMiss} `).includes(kind), `${kind} near miss found`);
    });
  }
});

/**
 * Kinds whose end is still checked, because a character of the token's alphabet after it makes
 * another value: a weak or no prefix (EAAA, found inside base64 data; `API-`, `ico-`, Vault's
 * `s.`; a bare 40-character AWS secret; Azure's `Q~` secrets and SAS signatures, whose length is
 * their only mark; Discord's dotted parts). Twilio's and Mailgun's hex ids end where hex does.
 */
const END_CHECKED = new Set([
  "aws-secret-access-key",
  "discord-bot-token",
  "square-token",
  "vault-token",
  "azure-sas-signature",
  "azure-ad-client-secret",
  "octopus-deploy-key",
  "infracost-api-key",
]);

describe("garbage glued after a token leaves it found", () => {
  for (const [kind, positive] of [...cases, ...breadth]) {
    if (END_CHECKED.has(kind)) continue;
    it(`${kind}: ${positive.slice(0, 10)}... + xyz`, () => {
      assert.ok(kinds(` ${positive}xyz `).includes(kind), `${kind} + xyz missed`);
      assert.ok(firstSecret(` ${positive}xyz `) !== null, `${kind} + xyz missed by the index`);
    });
  }
});

/** The kinds whose token starts with a distinctive prefix (four characters or more, one case). */
function backwardsReadable(kind: string, positive: string): boolean {
  return [...PROVIDER_PATTERNS, ...SERVICE_PATTERNS].some(
    (pattern) =>
      pattern.kind === kind &&
      pattern.caseless !== true &&
      (pattern.triggers ?? []).some(
        (t) =>
          t.length >= 4 &&
          !["EAAA", "key-", "API-", "dapi", "sig="].includes(t) &&
          positive.startsWith(t),
      ),
  );
}

describe("a named token written backwards is found", () => {
  const backwards = (s: string): string => Array.from(s).reverse().join("");
  const readable = [...cases, ...breadth].filter(([kind, positive]) =>
    backwardsReadable(kind, positive),
  );
  it("covers most named kinds", () => {
    assert.ok(readable.length >= 40, `only ${readable.length} kinds read backwards`);
  });
  for (const [kind, positive, nearMiss] of readable) {
    it(`${kind}: ${positive.slice(0, 10)}... backwards, alone, in a sentence and glued`, () => {
      assert.equal(firstSecret(` ${backwards(positive)} `), kind, `${kind} backwards missed`);
      assert.equal(firstSecret(`x=${backwards(positive)}&y=1`), kind);
      if (!END_CHECKED.has(kind)) assert.equal(firstSecret(`zz${backwards(positive)}`, true), kind);
      assert.notEqual(firstSecret(` ${backwards(nearMiss)} `), kind, `${kind} near miss found`);
    });
  }
  it("a flood of backwards prefixes before the token still finds it", () => {
    const [, positive] = readable.find(([kind]) => kind === "github-token") ?? ["", ""];
    const text = `${"_phg ".repeat(500)}${backwards(positive)}`;
    assert.equal(firstSecret(text), "github-token");
  });
  it("words that end in a prefix written backwards are not tokens", () => {
    for (const text of [
      "the ipad_phg",
      "AIKA is a name",
      "aizA_",
      "_mpn run build",
      "tap_buhtig",
    ]) {
      assert.equal(firstSecret(text), null, text);
    }
  });
});
