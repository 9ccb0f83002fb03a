/**
 * Reads a bottle's secrets on the host at start: each credential route's token (env var or file)
 * and each git entry's SSH key. They go to the sidecar's control socket and nowhere else: not
 * into argv, env files, image layers or logs. Errors name where a secret was looked for, never
 * what it holds.
 */
import fs from "node:fs";
import { BottleError } from "../errors.js";
import type { BottlePlan } from "../plan/bottle-plan.js";
import type { SidecarSecrets } from "../contract/contract.js";
import { chatgptAccessToken } from "../tokens/chatgpt-login.js";

export type BottleSecrets = SidecarSecrets;

export interface SecretsRead {
  secrets: BottleSecrets;
  /** Routes whose token is not set: they answer 503 until it is. */
  missing: string[];
  /** Git entries whose https token is not set: the gate reaches them without one. */
  missingGit: string[];
}

function readFileSecret(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    throw new BottleError("token_missing", `Cannot read ${what} from ${file}.`, {
      hint: "Check the path in the manifest and that the file is readable by you.",
    });
  }
}

/** A ChatGPT login's access token (from Codex's auth.json, or as it is); the rest stays here. */
function chatgptToken(cred: BottlePlan["credentials"][number], text: string): string {
  const token = chatgptAccessToken(text);
  if (token.ok) return token.accessToken;
  const where = "env" in cred.token_source ? `$${cred.token_source.env}` : cred.token_source.file;
  throw new BottleError(
    "token_missing",
    `The ChatGPT login of ${cred.name} cannot be read from ${where}: ${token.reason}.`,
    {
      hint: "Point the credential at Codex's auth.json after `codex login` (token: {file: ~/.codex/auth.json}), or at an OpenAI API key with inject: bearer.",
    },
  );
}

export function readBottleSecrets(
  plan: BottlePlan,
  env: Readonly<Record<string, string | undefined>>,
): SecretsRead {
  const secrets: BottleSecrets = { credentials: {}, git: {} };
  const missing: string[] = [];
  const missingGit: string[] = [];
  for (const cred of plan.credentials) {
    const source = cred.token_source;
    const value =
      "env" in source ? env[source.env] : readFileSecret(source.file, `the token of ${cred.name}`);
    if (value === undefined || value === "") missing.push(cred.name);
    else
      secrets.credentials[cred.name] =
        cred.inject === "chatgpt" ? chatgptToken(cred, value) : value;
  }
  for (const entry of plan.git) {
    const secret: BottleSecrets["git"][string] = {};
    if (entry.identity_file !== null) {
      secret.identityKey = `${readFileSecret(entry.identity_file, `the SSH key of ${entry.name}`)}\n`;
    }
    const source = entry.token_source;
    if (source !== null) {
      const token =
        "env" in source
          ? env[source.env]
          : readFileSecret(source.file, `the token of ${entry.name}`);
      if (token === undefined || token === "") missingGit.push(entry.name);
      else secret.token = token;
    }
    secrets.git[entry.name] = secret;
  }
  return { secrets, missing, missingGit };
}
