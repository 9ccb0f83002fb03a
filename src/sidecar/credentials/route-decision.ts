/**
 * The routing decision of the credential proxy, PURE: which route a raw request target belongs
 * to, or why it is refused. A route owns its base path, so a target that could mean a different
 * path to the upstream than it does to us is refused (400) before any route is chosen:
 *
 * - not origin-form (`/...`): absolute-form (`http://host/x`), authority-form, `*`; or a path
 *   starting `//` (read as a host by some parsers); or a fragment (`#`);
 * - dot segments (`.`, `..`, also `..;params`), empty segments (`//`), backslashes, NUL or other
 *   control characters, or encoded separators (`%2f`, `%5c`), in the raw path or in any layer of
 *   percent-decoding it (so `%2e%2e`, `%252e%252e` and deeper are caught), decoded to a fixed
 *   point within a small number of layers (a target still changing after them is refused);
 * - malformed percent escapes.
 *
 * Only a path that passes is matched against the routes (credential-routes.ts), and the upstream
 * URL built from it must still lie under the route's upstream base path.
 */
import type { CredentialRoute } from "./credential-routes.js";
import { selectRoute, upstreamUrl } from "./credential-routes.js";

export type RouteDecision =
  | { kind: "forward"; route: CredentialRoute; url: URL }
  | { kind: "refuse"; status: 400; reason: string }
  | { kind: "none" };

const MAX_LAYERS = 4;

function refuse(reason: string): RouteDecision {
  return { kind: "refuse", status: 400, reason };
}

/** One layer of percent-decoding, byte-wise (latin1), or null when an escape is malformed. */
function decodeLayer(text: string): string | null {
  if (/%(?![0-9a-fA-F]{2})/.test(text)) return null;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** True when `text` holds NUL, another C0 control character or DEL. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Why one layer of the path is unsafe, or null. */
function layerProblem(layer: string, innermost: boolean): string | null {
  // Control characters, NUL and DEL; backslash, which some servers read as a separator.
  if (hasControl(layer)) return "a control character";
  if (layer.includes("\\")) return "a backslash";
  if (!innermost && /%(2f|5c)/i.test(layer)) return "an encoded path separator";
  const segments = layer.split("/").slice(1);
  for (const [index, segment] of segments.entries()) {
    const name = segment.split(";")[0] ?? "";
    if (name === "." || name === "..") return "a dot segment";
    if (segment === "" && index < segments.length - 1) return "an empty segment (//)";
  }
  return null;
}

/** Why the path (no query) is unsafe, or null; checks every percent-decoded layer. */
export function pathProblem(rawPath: string): string | null {
  let layer = rawPath;
  for (let depth = 0; depth <= MAX_LAYERS; depth += 1) {
    const decoded = decodeLayer(layer);
    if (decoded === null) return "a malformed percent escape";
    const problem = layerProblem(layer, decoded === layer);
    if (problem !== null) return problem;
    if (decoded === layer) return null;
    if (decoded.split("/").length !== layer.split("/").length) return "an encoded path separator";
    layer = decoded;
  }
  return "percent-encoding nested too deep";
}

function underBase(url: URL, route: CredentialRoute): boolean {
  const base = new URL(route.upstream).pathname.replace(/\/+$/, "");
  return base === "" || url.pathname === base || url.pathname.startsWith(`${base}/`);
}

/** The decision for a raw request target, as it came on the request line. */
export function decideRoute(routes: readonly CredentialRoute[], target: string): RouteDecision {
  if (!target.startsWith("/")) return refuse("the request target must be a path starting with /");
  if (target.startsWith("//")) return refuse("the request path starts with //");
  if (target.includes("#")) return refuse("the request target holds a fragment (#)");
  const query = target.indexOf("?");
  const rawPath = query === -1 ? target : target.slice(0, query);
  const problem = pathProblem(rawPath);
  if (problem !== null) return refuse(`the request path holds ${problem}`);
  if (query !== -1 && (hasControl(target.slice(query)) || /%00/i.test(target.slice(query))))
    return refuse("the query holds a control character");
  const route = selectRoute(routes, target);
  if (route === undefined) return { kind: "none" };
  const url = upstreamUrl(route, target);
  if (!underBase(url, route)) return refuse(`the request path leaves route ${route.name}`);
  return { kind: "forward", route, url };
}
