/**
 * Who may talk to the dashboard (PURE, apart from making the secrets). The server listens on
 * 127.0.0.1 only; on top of that every request must:
 *   - name the dashboard itself in `Host` (127.0.0.1:<port> or localhost:<port>): a page of
 *     another site whose name was rebound to 127.0.0.1 (DNS rebinding) sends its own name;
 *   - come from no other origin: an `Origin` or `Sec-Fetch-Site` that says another page sent it
 *     is refused (CSRF), and a cookie-authenticated POST must carry the dashboard's own Origin;
 *   - carry the secret: the session cookie (HttpOnly, SameSite=Strict) the page gets when it is
 *     opened with `?token=`, or `Authorization: Bearer <token>` for scripts.
 * Nothing here logs; the token and the session value are never written anywhere but to the
 * first line of `bottle dashboard`'s stdout (the token) and the browser's cookie (the session).
 */
import crypto from "node:crypto";
import { commandLines } from "../core/command-lines.js";

export interface DashboardSecrets {
  /** Printed once in the URL; exchanged for the session cookie, or sent as a bearer token. */
  token: string;
  /** The cookie's value: a second secret, so the URL's token never sits in a cookie jar. */
  session: string;
}

export function makeSecrets(): DashboardSecrets {
  return {
    token: crypto.randomBytes(32).toString("base64url"),
    session: crypto.randomBytes(32).toString("base64url"),
  };
}

/** Cookies are not kept apart by port: the name carries it, so two dashboards do not clash. */
export function cookieName(port: number): string {
  return `bottle_dashboard_${port}`;
}

export function sessionCookie(port: number, secrets: DashboardSecrets): string {
  return `${cookieName(port)}=${secrets.session}; HttpOnly; SameSite=Strict; Path=/`;
}

/** What the checks read of a request (header values as Node gives them, lower-case names). */
export interface RequestFacts {
  method: string;
  /** Path and query as sent. */
  url: string;
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  cookie: string | undefined;
  authorization: string | undefined;
}

export type Admission =
  | { kind: "pass"; by: "cookie" | "bearer" }
  /**
   * A valid `?token=` on a page load: set the cookie and redirect to the same path without it.
   * `hop`: the load came from another site (the redirect file `bottle dashboard` opens, a
   * file:// page): the redirect is a page of the dashboard's own that moves on, so the next load
   * is same-origin and the SameSite=Strict cookie goes with it.
   */
  | { kind: "exchange"; location: string; hop: boolean }
  | { kind: "refuse"; status: 401 | 403; message: string };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function ownHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Decides whether a request may be served; never throws. */
export function admit(request: RequestFacts, port: number, secrets: DashboardSecrets): Admission {
  const hosts = ownHosts(port);
  if (request.host === undefined || !hosts.includes(request.host.toLowerCase()))
    return {
      kind: "refuse",
      status: 403,
      message: "This dashboard answers to its own address only.",
    };
  const origins = hosts.map((h) => `http://${h}`);
  if (request.origin !== undefined && !origins.includes(request.origin.toLowerCase()))
    return { kind: "refuse", status: 403, message: "Requests from other origins are refused." };
  const site = request.secFetchSite;
  const otherSite = site !== undefined && site !== "same-origin" && site !== "none";
  const url = new URL(request.url, "http://dashboard.invalid");
  const offered = url.searchParams.get("token");
  // Only the token's own exchange may come from another site (the file the opener is given):
  // it is the token that admits it, and it only sets the cookie; nothing else is done.
  if (otherSite && offered === null)
    return { kind: "refuse", status: 403, message: "Requests from other sites are refused." };
  if (offered !== null) {
    if (
      request.method !== "GET" ||
      url.pathname.startsWith("/api/") ||
      !same(offered, secrets.token)
    )
      return { kind: "refuse", status: 401, message: "That token is not this dashboard's." };
    url.searchParams.delete("token");
    return { kind: "exchange", location: `${url.pathname}${url.search}`, hop: otherSite };
  }
  const bearer = /^Bearer (\S+)$/.exec(request.authorization ?? "")?.[1];
  if (bearer !== undefined) {
    return same(bearer, secrets.token)
      ? { kind: "pass", by: "bearer" }
      : { kind: "refuse", status: 401, message: "That token is not this dashboard's." };
  }
  const cookie = cookieValue(request.cookie, cookieName(port));
  if (cookie === undefined || !same(cookie, secrets.session))
    return {
      kind: "refuse",
      status: 401,
      message: `Open the address \`${commandLines.dashboard()}\` printed (it carries the token).`,
    };
  const reads = request.method === "GET" || request.method === "HEAD";
  if (!reads && (request.origin === undefined || !origins.includes(request.origin.toLowerCase())))
    return {
      kind: "refuse",
      status: 403,
      message: "A change must come from the dashboard's page.",
    };
  return { kind: "pass", by: "cookie" };
}
