/**
 * The keys and tokens the git gate reaches upstreams with, held by the sidecar only. SSH keys
 * and known_hosts lines are written to a private folder of the sidecar's own file system (mode
 * 0700, files 0600), never to the state folder or the socket folder, and removed by `close()`.
 * ssh's shared connections (one login per entry, reused for a minute) live there too.
 * Tokens stay in memory and reach git through its environment (upstream-env.ts).
 *
 * OpenSSH refuses to run for a uid with no passwd entry, and the sidecar runs as the operator's
 * uid, which its image does not know: then git's ssh gets one through nss_wrapper.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { GitEnv } from "./git-process.js";
import { baseGitEnv } from "./git-process.js";
import type { UpstreamAuth } from "./upstream-env.js";
import { upstreamEnv } from "./upstream-env.js";

export interface GitSecret {
  identityKey?: string;
  token?: string;
}

/** Debian's libnss-wrapper, in the multiarch folder of whatever machine this is. */
function nssWrapper(): string | undefined {
  try {
    return fs
      .readdirSync("/usr/lib")
      .map((arch) => path.join("/usr/lib", arch, "libnss_wrapper.so"))
      .find((file) => fs.existsSync(file));
  } catch {
    return undefined;
  }
}

function hasPasswdEntry(): boolean {
  try {
    os.userInfo();
    return true;
  } catch {
    return false;
  }
}

export class UpstreamCredentials {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "bot-bottle-git-"));
  private readonly auth = new Map<string, UpstreamAuth>();
  private readonly identityEnv: Record<string, string> = {};

  constructor(
    /** known_hosts lines per entry name. */
    knownHosts: Readonly<Record<string, string>>,
    /** Roots for https upstreams (the system's and any extra), when extra ones were given. */
    caPem?: string,
  ) {
    fs.chmodSync(this.dir, 0o700);
    const caFile = caPem === undefined ? undefined : this.write("upstream-ca.pem", caPem);
    for (const [name, lines] of Object.entries(knownHosts)) {
      const file = this.write(`${name}.known_hosts`, lines);
      this.auth.set(name, {
        knownHostsFile: file,
        controlPath: path.join(this.dir, `${name}.ssh`),
        ...(caFile === undefined ? {} : { caFile }),
      });
    }
    const wrapper = hasPasswdEntry() ? undefined : nssWrapper();
    if (wrapper !== undefined) this.fakePasswd(wrapper);
  }

  private write(file: string, content: string): string {
    const target = path.join(this.dir, file);
    fs.writeFileSync(target, content, { mode: 0o600 });
    return target;
  }

  private fakePasswd(wrapper: string): void {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    this.identityEnv["LD_PRELOAD"] = wrapper;
    this.identityEnv["NSS_WRAPPER_PASSWD"] = this.write(
      "passwd",
      `bottle:x:${uid}:${gid}:bot-bottle:${this.dir}:/bin/false\n`,
    );
    this.identityEnv["NSS_WRAPPER_GROUP"] = this.write("group", `bottle:x:${gid}:\n`);
  }

  /** Replaces the secrets of every entry (the host hands them over after start). */
  set(secrets: Readonly<Record<string, GitSecret>>): void {
    for (const [name, auth] of this.auth) {
      // A login made with the previous key must not outlive it.
      this.endConnection(auth);
      const secret = secrets[name] ?? {};
      const next: UpstreamAuth = { knownHostsFile: auth.knownHostsFile };
      if (auth.controlPath !== undefined) next.controlPath = auth.controlPath;
      if (auth.caFile !== undefined) next.caFile = auth.caFile;
      if (secret.identityKey !== undefined) {
        next.keyFile = this.write(`${name}.key`, secret.identityKey);
      }
      if (secret.token !== undefined) next.token = secret.token;
      this.auth.set(name, next);
    }
  }

  /** git's environment to reach entry `name`'s upstream. Throws for a name it was not given. */
  env(name: string): GitEnv {
    const auth = this.auth.get(name);
    if (auth === undefined) throw new Error(`no git entry "${name}"`);
    return baseGitEnv({ ...this.identityEnv, HOME: this.dir, ...upstreamEnv(auth) });
  }

  /** Ends the shared ssh connections and removes the keys. */
  close(): void {
    for (const auth of this.auth.values()) this.endConnection(auth);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Ends an entry's shared ssh connection, if one is open: the next login starts afresh. */
  private endConnection(auth: UpstreamAuth): void {
    const control = auth.controlPath;
    if (control === undefined || !fs.existsSync(control)) return;
    spawnSync("ssh", ["-o", `ControlPath=${control}`, "-O", "exit", "upstream"], {
      stdio: "ignore",
      env: { ...process.env, ...this.identityEnv },
      timeout: 5_000,
    });
  }
}
