/**
 * How the gate's git reaches an upstream, PURE: the environment that makes git use the entry's
 * key and nothing else (no agent, no user config), trust only the pinned host keys (an unknown
 * or changed host key is refused), and never prompt. An https upstream gets its token as an
 * `http.extraHeader` through GIT_CONFIG_* variables: never in a URL, an argument or a file.
 */

export interface UpstreamAuth {
  /** The SSH private key, in a file only the sidecar can read. */
  keyFile?: string;
  /** known_hosts lines the entry trusts, in a file. */
  knownHostsFile: string;
  /** Token for an https upstream. */
  token?: string;
  /** CA bundle for an https upstream with roots of its own. */
  caFile?: string;
  /**
   * ssh's shared connection of this entry (a socket only the sidecar reaches): its login is kept
   * open a minute and reused by the entry's next fetch or push (a login costs a third of a
   * second). One per entry, never shared: another entry's key or host keys must not ride on it.
   */
  controlPath?: string;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function sshCommand(auth: UpstreamAuth): string {
  const options = [
    "-F /dev/null",
    "-o BatchMode=yes",
    "-o IdentitiesOnly=yes",
    "-o IdentityAgent=none",
    `-o UserKnownHostsFile=${shellQuote(auth.knownHostsFile)}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o UpdateHostKeys=no",
    "-o ConnectTimeout=20",
  ];
  if (auth.keyFile !== undefined) options.push(`-i ${shellQuote(auth.keyFile)}`);
  if (auth.controlPath !== undefined) {
    options.push(
      "-o ControlMaster=auto",
      `-o ControlPath=${shellQuote(auth.controlPath)}`,
      "-o ControlPersist=60",
    );
  }
  return `ssh ${options.join(" ")}`;
}

export function upstreamEnv(auth: UpstreamAuth): Record<string, string> {
  const env: Record<string, string> = {
    GIT_SSH_COMMAND: sshCommand(auth),
    GIT_SSH_VARIANT: "ssh",
  };
  const config: [string, string][] = [];
  if (auth.token !== undefined) {
    const basic = Buffer.from(`x-access-token:${auth.token}`).toString("base64");
    config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
  }
  if (auth.caFile !== undefined) config.push(["http.sslCAInfo", auth.caFile]);
  if (config.length > 0) {
    env["GIT_CONFIG_COUNT"] = String(config.length);
    config.forEach(([key, value], index) => {
      env[`GIT_CONFIG_KEY_${index}`] = key;
      env[`GIT_CONFIG_VALUE_${index}`] = value;
    });
  }
  return env;
}
