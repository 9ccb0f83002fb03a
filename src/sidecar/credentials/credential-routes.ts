/**
 * Credential routes, PURE: which route a request path belongs to, the upstream URL it goes to,
 * and the headers it is sent with.
 *
 * - A route owns its path prefix on a segment boundary: `/anthropic` takes `/anthropic` and
 *   `/anthropic/v1/messages`, never `/anthropicx`. The longest prefix wins.
 * - The upstream URL is the route's base URL (its own path kept) plus the rest of the path and
 *   the query.
 * - Every credential the agent sent is removed (Authorization, X-Api-Key, Proxy-Authorization,
 *   Cookie, the route's own header), and hop-by-hop headers; Host becomes the upstream's; then
 *   the real token is injected as the route says: `x-api-key`, `bearer`, `chatgpt` or
 *   `header:<Name>`.
 *   A Claude OAuth token (`sk-ant-oat...`) on an anthropic route is sent as a bearer token with
 *   the `oauth-2025-04-20` beta flag, as Anthropic's API expects of such tokens. `chatgpt` (a
 *   Codex ChatGPT login): the access token as a bearer token, and `chatgpt-account-id` from its
 *   claims in place of the agent's placeholder.
 */
import type http from "node:http";
import { chatgptAccountId } from "../../core/tokens/chatgpt-login.js";

export interface CredentialRoute {
  name: string;
  path: string;
  upstream: string;
  role: string | null;
  /** `x-api-key`, `bearer` or `header:<Name>`. */
  inject: string;
}

const STRIPPED = new Set([
  "authorization",
  "x-api-key",
  "proxy-authorization",
  "cookie",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

const OAUTH_BETA = "oauth-2025-04-20";

export function selectRoute(
  routes: readonly CredentialRoute[],
  requestPath: string,
): CredentialRoute | undefined {
  const pathOnly = requestPath.split("?")[0] ?? "";
  let best: CredentialRoute | undefined;
  for (const route of routes) {
    const owns = pathOnly === route.path || pathOnly.startsWith(`${route.path}/`);
    if (owns && (best === undefined || route.path.length > best.path.length)) best = route;
  }
  return best;
}

/** The upstream URL for a request path under `route`. */
export function upstreamUrl(route: CredentialRoute, requestPath: string): URL {
  const base = new URL(route.upstream);
  const rest = requestPath.slice(route.path.length);
  const query = rest.indexOf("?");
  const restPath = query === -1 ? rest : rest.slice(0, query);
  const search = query === -1 ? "" : rest.slice(query);
  const joined = `${base.pathname.replace(/\/+$/, "")}/${restPath.replace(/^\/+/, "")}`;
  base.pathname = joined === "" ? "/" : joined;
  base.search = search;
  return base;
}

function injectedHeaderName(route: CredentialRoute): string | null {
  return route.inject.startsWith("header:") ? route.inject.slice(7).toLowerCase() : null;
}

/** The headers sent upstream: the agent's, without its credentials, with the real token. */
export function upstreamHeaders(
  route: CredentialRoute,
  incoming: http.IncomingHttpHeaders,
  token: string,
  upstream: URL,
): http.OutgoingHttpHeaders {
  const own = injectedHeaderName(route);
  const named = new Set(
    (typeof incoming.connection === "string" ? incoming.connection : "")
      .split(",")
      .map((t) => t.trim().toLowerCase()),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || STRIPPED.has(name) || named.has(name) || name === own) continue;
    out[name] = value;
  }
  out.host = upstream.host;
  if (incoming["content-length"] !== undefined) out["content-length"] = incoming["content-length"];
  const oauth = route.role === "anthropic-base-url" && token.startsWith("sk-ant-oat");
  if (oauth) {
    out.authorization = `Bearer ${token}`;
    const beta = typeof out["anthropic-beta"] === "string" ? out["anthropic-beta"] : "";
    const flags = beta
      .split(",")
      .map((f) => f.trim())
      .filter((f) => f !== "");
    if (!flags.includes(OAUTH_BETA)) flags.push(OAUTH_BETA);
    out["anthropic-beta"] = flags.join(",");
  } else if (route.inject === "x-api-key") out["x-api-key"] = token;
  else if (route.inject === "bearer") out.authorization = `Bearer ${token}`;
  else if (route.inject === "chatgpt") {
    // The agent's account id is a placeholder like the rest of its login: the token's own wins.
    delete out["chatgpt-account-id"];
    out.authorization = `Bearer ${token}`;
    const account = chatgptAccountId(token);
    if (account !== undefined) out["chatgpt-account-id"] = account;
  } else if (own !== null) out[own] = token;
  return out;
}
