/**
 * A real OpenSSH server on 127.0.0.1, run as the current user, serving bare git repositories: the
 * SSH upstream for tests of the git gate. Everything it needs (host key, client key pair,
 * authorized_keys, known_hosts, repositories) lives in one temp dir that `stop()` removes.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const SSHD = "/usr/sbin/sshd"; // sshd re-executes itself, so it must be started by absolute path

export interface SshUpstream {
  host: string;
  port: number;
  user: string;
  /** The client's private key, authorized to log in as `user`. */
  identityFile: string;
  /** `[127.0.0.1]:<port> ssh-ed25519 AAAA...` */
  knownHostsLine: string;
  /** A known_hosts file holding `knownHostsLine` only. */
  knownHostsFile: string;
  /** Makes `<dir>/repos/<name>.git` (bare, branch main); returns its absolute path. */
  createBareRepo(name: string): string;
  /** `ssh://<user>@127.0.0.1:<port><absolute repo path>` */
  url(name: string): string;
  /** A GIT_SSH_COMMAND that logs in with the client key and trusts only this server's host key. */
  sshCommand(): string;
  stop(): Promise<void>;
}

/** Generates an ed25519 key pair at `file` and `file.pub`; returns the public key line. */
export function sshKeygen(file: string, comment = "bot-bottle-test"): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return fs.readFileSync(`${file}.pub`, "utf8").trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Starts sshd and resolves once a client can log in with the generated key. `dir` (created if
 * missing, kept by `stop()`) replaces the temp dir.
 */
export async function startSshd(options: { dir?: string } = {}): Promise<SshUpstream> {
  const dir = path.resolve(options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "bottle-sshd-")));
  fs.mkdirSync(path.join(dir, "repos"), { recursive: true });
  const hostKey = path.join(dir, "ssh_host_ed25519_key");
  const identityFile = path.join(dir, "client_ed25519");
  const hostPublic = sshKeygen(hostKey, "bot-bottle-test-host").split(" ").slice(0, 2).join(" ");
  fs.writeFileSync(path.join(dir, "authorized_keys"), `${sshKeygen(identityFile)}\n`);
  // As root, sshd insists on its privilege separation directory.
  if (process.getuid?.() === 0) fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "",
    ].join("\n"),
  );
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let ended: string | undefined; // why sshd is no longer running, once it is not
  const end = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve((ended ??= `sshd exited (${signal ?? String(code)})`));
    });
    child.once("error", (error) => {
      resolve((ended ??= `sshd did not start: ${error.message}`));
    });
  });

  const knownHostsLine = `[127.0.0.1]:${port} ${hostPublic}`;
  const knownHostsFile = path.join(dir, "known_hosts");
  fs.writeFileSync(knownHostsFile, `${knownHostsLine}\n`);
  const user = os.userInfo().username;
  const sshArgs = [
    "-i",
    identityFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
  ];
  const stop = async (): Promise<void> => {
    if (ended === undefined) {
      child.kill("SIGTERM");
      await end;
    }
    if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  };

  // Ready when a real login works: that checks the port, the host key and the client key at once.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const login = new Promise<string>((resolve) => {
      const args = [...sshArgs, "-o", "ConnectTimeout=2", "-p", String(port), `${user}@127.0.0.1`];
      execFile("ssh", [...args, "true"], { timeout: 5_000 }, (error, _out, err) => {
        resolve(error === null ? "" : err || error.message);
      });
    });
    const outcome = await Promise.race([login, end]);
    if (outcome === "") break;
    if (ended !== undefined || Date.now() > deadline) {
      await stop();
      throw new Error(
        `sshd on 127.0.0.1:${port} did not accept a login (${outcome.trim()}); sshd's stderr:\n${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const repoPath = (name: string): string => path.join(dir, "repos", `${name}.git`);
  return {
    host: "127.0.0.1",
    port,
    user,
    identityFile,
    knownHostsLine,
    knownHostsFile,
    createBareRepo: (name) => {
      execFileSync("git", ["init", "--quiet", "--bare", "-b", "main", repoPath(name)]);
      return repoPath(name);
    },
    url: (name) => `ssh://${user}@127.0.0.1:${port}${repoPath(name)}`,
    sshCommand: () => ["ssh", ...sshArgs].map(quote).join(" "),
    stop,
  };
}
