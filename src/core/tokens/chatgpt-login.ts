/**
 * A ChatGPT login of the Codex CLI, PURE: what the host reads from it and what the credential
 * proxy derives from it.
 *
 * - The host's `~/.codex/auth.json` (after `codex login`) holds `tokens.access_token`, a JWT that
 *   ChatGPT's Codex backend takes as a bearer token, with the account id in its claims. Only that
 *   access token goes to the sidecar; the id and refresh tokens stay on the host.
 * - The proxy sends the account id it reads from the access token's claims as
 *   `chatgpt-account-id`, so the agent needs to hold neither (its own auth.json is placeholders).
 * - Nothing here checks a signature: the token is the operator's own, read from their file.
 */

/**
 * The fields of Codex's auth.json read here, checked by hand rather than with a schema library:
 * `bottle start` reads secrets on the pooled start's path, which loads no schema library.
 */
interface AuthFile {
  tokens?: { access_token: string } | null;
  OPENAI_API_KEY?: string | null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseAuthFile(value: unknown): AuthFile | undefined {
  const file = record(value);
  if (file === undefined) return undefined;
  const key = file["OPENAI_API_KEY"];
  if (key !== undefined && key !== null && typeof key !== "string") return undefined;
  const rawTokens = file["tokens"];
  if (rawTokens === undefined || rawTokens === null) return { tokens: null, OPENAI_API_KEY: key };
  const access = record(rawTokens)?.["access_token"];
  if (typeof access !== "string" || access === "") return undefined;
  return { tokens: { access_token: access }, OPENAI_API_KEY: key };
}

export type ChatgptToken = { ok: true; accessToken: string } | { ok: false; reason: string };

/**
 * The access token of a ChatGPT login: from Codex's auth.json text, or the text itself when it is
 * not JSON (a bare access token). Never returns or quotes anything else the file holds.
 */
export function chatgptAccessToken(text: string): ChatgptToken {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    return trimmed === ""
      ? { ok: false, reason: "it is empty" }
      : { ok: true, accessToken: trimmed };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return { ok: false, reason: "it is neither JSON (Codex's auth.json) nor a bare token" };
  }
  const file = parseAuthFile(parsed);
  if (file === undefined) return { ok: false, reason: "it is not Codex's auth.json" };
  const access = file.tokens?.access_token;
  if (access !== undefined) return { ok: true, accessToken: access };
  return {
    ok: false,
    reason:
      typeof file.OPENAI_API_KEY === "string"
        ? "it holds an API key, not a ChatGPT login (use inject: bearer with the key)"
        : "it holds no ChatGPT login (run `codex login` on the host)",
  };
}

const CLAIMS = "https://api.openai.com/auth";

/** The ChatGPT account id in an access token's claims, if it is a JWT that carries one. */
export function chatgptAccountId(accessToken: string): string | undefined {
  const payload = accessToken.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const id = record(record(claims)?.[CLAIMS])?.["chatgpt_account_id"];
    return typeof id === "string" && id !== "" ? id : undefined;
  } catch {
    return undefined;
  }
}
