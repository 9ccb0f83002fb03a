/**
 * Which git smart-HTTP call a request to the gate is, PURE. The agent's git reaches a repository
 * as `http://127.0.0.1:<git port>/<entry name>[.git]` (its ~/.gitconfig rewrites the upstream
 * URL to that). Anything else is not a route: the dumb HTTP protocol, other paths, other methods.
 */

export type GitService = "git-upload-pack" | "git-receive-pack";

export type GateRoute =
  | { kind: "advertise"; repo: string; service: GitService }
  | { kind: "rpc"; repo: string; service: GitService };

const SERVICES: readonly string[] = ["git-upload-pack", "git-receive-pack"];

function isService(value: string | null): value is GitService {
  return value !== null && SERVICES.includes(value);
}

export function routeOf(method: string, url: string): GateRoute | null {
  const parsed = new URL(url, "http://gate");
  const match =
    /^\/([a-z][a-z0-9-]*)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(
      parsed.pathname,
    );
  if (match === null) return null;
  const [, repo = "", call = ""] = match;
  if (call === "info/refs") {
    const service = parsed.searchParams.get("service");
    return method === "GET" && isService(service) ? { kind: "advertise", repo, service } : null;
  }
  return method === "POST" && isService(call) ? { kind: "rpc", repo, service: call } : null;
}
