/**
 * Secrets assigned to names that say what they are, PURE: `password:`, `token=`, `api_key`,
 * `client_secret`, `private_key`... in YAML, JSON, .env, INI, TOML, form bodies, command lines
 * and CSV columns. The name is not enough: code that merely names a secret (types, variables,
 * environment look-ups, templates, placeholders, examples) must pass, so the value must look like
 * a secret written out: long enough, mixed, random enough, and none of the shapes of a reference.
 */
import { entropy } from "../exfil-shapes.js";
import { type SecretPattern, prefixed } from "./detector.js";

/** Names whose value is a secret; the name must END with one (`accessToken`, `DB_PASSWORD`). */
const NAME =
  "(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)";

/** Names ending so that carry no secret (paging cursors, CSRF form fields). */
const HARMLESS_NAME =
  /(?:page|next|continuation|sync|csrf|xsrf|authenticity|cancel|max|id)[_-]?token$/i;

/** Words that mark a value as an example or a placeholder. */
const STOPWORDS =
  /change_?me|example|placeholder|your|redacted|dummy|sample|fake|test|insert|replace|todo|lorem|foobar|secret|password|passwd|token|x{4}|\*{3}|\.{3}|<|>|\{\{|\}\}/i;

/** Values that refer to a secret kept elsewhere, or are code. */
const REFERENCE =
  /^(?:\$|%|@|#\{|\(|\[|\{|\/|\.\/|~\/|https?:\/\/|file:)|process\.env|os\.environ|getenv|ENV\[|secrets\.|vault:|\w\(|=>|\)$/;

const SEPARATOR = `\\\\?["'\`]?\\s*(?::=|=>|[:=])[ \\t]*`;
const QUOTED = `\\\\?(?<q>["'\`])(?<quoted>[^"'\`\\n\\\\]{1,200})\\\\?\\k<q>`;
const BARE = `(?<bare>[^\\s"'\`&;,#<>]{1,200})`;
const ASSIGNMENT = new RegExp(`${NAME}(?![A-Za-z0-9])${SEPARATOR}(?:${QUOTED}|${BARE})`, "i");
const NAME_AT_START = new RegExp(`^${NAME}`, "i");
const FLAG = new RegExp(`(?<=--(?:[a-z]+-)*)${NAME}[ =](?<bare>[^\\s"'&;]{1,200})`, "i");

/** Character kinds a value mixes: lower, upper, digit, other. */
function kinds(value: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((kind) => kind.test(value)).length;
}

/** True when `value`, assigned to a secret's name, looks like the secret written out. */
export function looksLikeSecretValue(value: string, quoted: boolean): boolean {
  if (value.length < 8 || value.length > 200) return false;
  if (STOPWORDS.test(value) || REFERENCE.test(value)) return false;
  if (/^(?:true|false|null|nil|none|undefined)$/i.test(value)) return false;
  if (/^(.)\1+$/.test(value)) return false;
  if (/\s\S*\s/.test(value)) return false; // prose: three words or more
  if (/^v?\d+(?:\.\d+)+/.test(value)) return false; // a version
  // Names, not values: an identifier, a member access, a constant's name, kebab or snake case.
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[[^\]]*\])+$/.test(value)) return false;
  if (/^[a-z][a-z_.-]*$/.test(value) || /^[A-Z][A-Z0-9_]*$/.test(value)) return false;
  if (/^[a-z]+(?:[A-Z][a-z]+)+$/.test(value) || /^[A-Z][a-z]+(?:[A-Z][a-z]+)*$/.test(value)) {
    return false;
  }
  if (!quoted && /^[A-Za-z_$][\w$]*$/.test(value) && !/[0-9]/.test(value)) return false;
  return kinds(value) >= 2 && entropy(value) >= 3;
}

function assignment(match: RegExpMatchArray): boolean {
  const groups = match.groups ?? {};
  const start = match.index ?? 0;
  const input = match.input ?? "";
  const before = input.slice(Math.max(0, start - 200), start);
  const name = `${before}${NAME_AT_START.exec(match[0])?.[0] ?? ""}`.match(/[A-Za-z0-9_-]*$/)?.[0];
  if (HARMLESS_NAME.test(name ?? "")) return false;
  // A query parameter of a badge's image (`badge.svg?token=...`): a public read-only token that
  // READMEs show to everyone.
  const url = before.slice(before.search(/[^\s("'<>[\]]*$/));
  if (/[?&]$/.test(url) && /badge|\.(?:svg|png)\b/i.test(url)) return false;
  const quoted = groups["quoted"];
  if (quoted !== undefined) return looksLikeSecretValue(quoted, true);
  const bare = (groups["bare"] ?? "").replace(/[,;:.)\]}]+$/, "");
  // Unquoted, brackets are code (`CredentialSpec["token"]`, `string):`), not a secret written out.
  if (/[()[\]{}]/.test(bare)) return false;
  return looksLikeSecretValue(bare, false);
}

const CSV_NAME = new RegExp(`^"?[A-Za-z _-]{0,30}${NAME}"?$`, "i");
const CSV_HEADER_CELL = /^"?[A-Za-z][A-Za-z0-9 _-]{0,40}"?$/;

/**
 * A CSV table whose header line (the line holding `hit`) names a column as a secret, and a
 * value in that column, in the lines below, that looks like one. A header is names only (no
 * empty cell: `token,` ending a line of code is not one), and a value holds no blank.
 */
function csvColumn(text: string, hit: number): boolean {
  const from = text.lastIndexOf("\n", hit) + 1;
  const to = text.indexOf("\n", hit);
  const header = text.slice(from, to === -1 ? text.length : to).replace(/\r$/, "");
  if (to === -1 || !header.includes(",")) return false;
  const columns = header.split(",").map((cell) => cell.trim());
  if (!columns.every((cell) => CSV_HEADER_CELL.test(cell))) return false;
  const column = columns.findIndex((cell) => CSV_NAME.test(cell));
  if (column === -1) return false;
  const lines = text.slice(to + 1, to + 1 + 64 * 1024).split(/\r?\n/, 50);
  for (const line of lines) {
    const cells = line.split(",");
    if (cells.length !== columns.length) break;
    const cell = (cells[column] ?? "").trim().replace(/^"(.*)"$/, "$1");
    if (!/\s/.test(cell) && looksLikeSecretValue(cell, true)) return true;
  }
  return false;
}

/** Every spelling of the names the index looks for (any case). */
const NAME_TRIGGERS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "credential",
  ...["api", "access", "private", "signing", "encryption"].flatMap((word) => [
    `${word}key`,
    `${word}_key`,
    `${word}-key`,
  ]),
];

export const GENERIC_PATTERNS: readonly SecretPattern[] = [
  prefixed("generic-secret-assignment", NAME_TRIGGERS, ASSIGNMENT, assignment, {
    caseless: true,
    boundless: true,
  }),
  prefixed(
    "generic-secret-assignment",
    NAME_TRIGGERS,
    FLAG,
    (match) => looksLikeSecretValue(match.groups?.["bare"] ?? "", false),
    { caseless: true, boundless: true },
  ),
  {
    kind: "generic-secret-assignment",
    triggers: NAME_TRIGGERS,
    caseless: true,
    find: (text) => {
      const lower = text.toLowerCase();
      return NAME_TRIGGERS.some((name) => {
        for (let hit = lower.indexOf(name); hit !== -1; hit = lower.indexOf(name, hit + 1)) {
          if (csvColumn(text, hit)) return true;
        }
        return false;
      });
    },
    at: (text, hit) => csvColumn(text, hit),
  },
];
