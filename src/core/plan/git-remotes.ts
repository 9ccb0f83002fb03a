/**
 * Which remotes of a `--cwd` repository are git entries of the bottle, PURE. A remote matches an
 * entry when both name the same repository: same host and path, whatever the spelling (scp-like
 * `git@host:me/app.git`, `ssh://git@host/me/app`, `https://host/me/app.git`; the user, a
 * trailing `.git` or `/`, and the default port do not count). The workspace copy of a matching
 * remote is pointed at the entry's upstream URL, which the agent's git sends through the gate.
 */

export interface WorkspaceRemote {
  /** The remote's name in the workspace, e.g. `origin`. */
  remote: string;
  /** The git entry it goes through. */
  entry: string;
  /** The URL it is set to: the entry's upstream, as the manifest spells it. */
  url: string;
}

const DEFAULT_PORTS: Record<string, string> = { ssh: "22", "git+ssh": "22", https: "443" };

interface GitUrl {
  /** `ssh` for the scp-like form. */
  scheme: string;
  /** Lower-case. */
  host: string;
  /** "" for the scheme's default port. */
  port: string;
  path: string;
}

/** The parts of a network git URL (`scheme://[user@]host[:port]/path` or `[user@]host:path`). */
function parseGitUrl(url: string): GitUrl | null {
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const scp = /^(?:[^@/]+@)?([^:/]+):(.+)$/.exec(url);
    if (scp === null) return null;
    return { scheme: "ssh", host: (scp[1] ?? "").toLowerCase(), port: "", path: scp[2] ?? "" };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.hostname === "") return null;
  return {
    scheme,
    host: parsed.hostname.toLowerCase(),
    port: parsed.port === DEFAULT_PORTS[scheme] ? "" : parsed.port,
    path: decodeURIComponent(parsed.pathname),
  };
}

/** `host[:port]/path` of a git URL, or null when it is not a network URL (a local path). */
export function repositoryKey(url: string): string | null {
  const parsed = parseGitUrl(url);
  if (parsed === null) return null;
  const cleaned = parsed.path
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  if (cleaned === "") return null;
  return `${parsed.host}${parsed.port === "" ? "" : `:${parsed.port}`}/${cleaned}`;
}

export function matchWorkspaceRemotes(
  remotes: readonly { name: string; url: string }[],
  entries: readonly { name: string; upstream: string }[],
): WorkspaceRemote[] {
  const byKey = new Map<string, { name: string; upstream: string }>();
  for (const entry of entries) {
    const key = repositoryKey(entry.upstream);
    if (key !== null && !byKey.has(key)) byKey.set(key, entry);
  }
  const matched: WorkspaceRemote[] = [];
  for (const remote of remotes) {
    const key = repositoryKey(remote.url);
    const entry = key === null ? undefined : byKey.get(key);
    if (entry !== undefined)
      matched.push({ remote: remote.name, entry: entry.name, url: entry.upstream });
  }
  return matched;
}

/**
 * How an SSH upstream's host is named in known_hosts: `host`, or `[host]:port` off port 22.
 * null for an https upstream.
 */
export function knownHostsName(upstream: string): string | null {
  const parsed = parseGitUrl(upstream);
  if (parsed === null || parsed.scheme === "https") return null;
  return parsed.port === "" ? parsed.host : `[${parsed.host}]:${parsed.port}`;
}

/** Whether pinned known_hosts lines name `host` (plain names only: pinned lines are not hashed). */
export function pinnedFor(lines: readonly string[], host: string): boolean {
  return lines.some((line) => (line.split(" ")[0] ?? "").split(",").includes(host));
}
