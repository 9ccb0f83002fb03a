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
import { z } from "zod";

const authFile = z.object({
  tokens: z.object({ access_token: z.string().min(1) }).nullish(),
  OPENAI_API_KEY: z.string().nullish(),
});

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
  const file = authFile.safeParse(parsed);
  if (!file.success) return { ok: false, reason: "it is not Codex's auth.json" };
  const access = file.data.tokens?.access_token;
  if (access !== undefined) return { ok: true, accessToken: access };
  return {
    ok: false,
    reason:
      typeof file.data.OPENAI_API_KEY === "string"
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
    const parsed = z
      .object({ [CLAIMS]: z.object({ chatgpt_account_id: z.string().min(1) }) })
      .safeParse(claims);
    return parsed.success ? parsed.data[CLAIMS].chatgpt_account_id : undefined;
  } catch {
    return undefined;
  }
}
