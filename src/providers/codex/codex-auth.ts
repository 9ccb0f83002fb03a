/**
 * The placeholder `~/.codex/auth.json` of a bottle whose model route carries a ChatGPT login
 * (`inject: chatgpt`), PURE. Codex reads a ChatGPT login from this file and sends its access token
 * as a bearer token, with its account id, to the model provider's base URL: the credential route,
 * where the sidecar replaces both with the operator's real ones.
 *
 * The tokens are JWT-shaped placeholders (header, claims, and a signature that says what they
 * are), unsigned and worthless. Their expiry lies far ahead, so Codex never tries to refresh them
 * on its own; if the real access token expires, the upstream's 401 makes Codex try a refresh at
 * auth.openai.com, which the egress gate refuses: log in again on the host and resume the bottle.
 */
import { TOKEN_PLACEHOLDER } from "../../core/plan/placeholders.js";

/** 2100-01-01: later than any session. */
const FAR_EXPIRY = 4_102_444_800;
const PLACEHOLDER_ACCOUNT = "placeholder-account-held-by-bot-bottle";

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function placeholderJwt(claims: Record<string, unknown>): string {
  const signature = Buffer.from(TOKEN_PLACEHOLDER).toString("base64url");
  return `${segment({ alg: "none", typ: "JWT" })}.${segment(claims)}.${signature}`;
}

export function placeholderAuthJson(): string {
  const auth = {
    "https://api.openai.com/auth": { chatgpt_account_id: PLACEHOLDER_ACCOUNT },
  };
  const file = {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: placeholderJwt({ exp: FAR_EXPIRY, email: "agent@bottle.invalid", ...auth }),
      access_token: placeholderJwt({ exp: FAR_EXPIRY, ...auth }),
      refresh_token: TOKEN_PLACEHOLDER,
      account_id: PLACEHOLDER_ACCOUNT,
    },
    last_refresh: "2100-01-01T00:00:00Z",
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
