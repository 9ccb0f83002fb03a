/**
 * A real SSH git upstream in a container of the test's own, on a bottle's (or test's) network under
 * an alias: for integration tests of the git gate. Repositories live in /srv/git, owned by the
 * `git` user; the host and client keys are made on the host, so the test holds the client key and
 * the host key to trust. Nothing leaves the machine.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { pack } from "tar-stream";
import { BASE_IMAGE, demux, docker, waitFor } from "./docker.js";
import { sshKeygen } from "./sshd.js";

export const SSHD_IMAGE = "bot-bottle-test/sshd:1";

const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server git \\
 && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_* \\
 && useradd --create-home --shell /bin/sh git \\
 && usermod -p '*' git \\
 && mkdir -p /run/sshd /srv/git && chown git:git /srv/git
COPY sshd_config /etc/ssh/sshd_config
`;

// A password of "*" (set above) rather than useradd's "!": without PAM, sshd refuses a locked account.
const SSHD_CONFIG = `Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/test_authorized_keys
UsePAM no
StrictModes no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
`;

export interface SshContainer {
  id: string;
  /** Host path of the client private key, authorized to log in as `git`. */
  identityFile: string;
  /** `<alias> ssh-ed25519 AAAA...` */
  knownHostsLine: string;
  /** Makes the bare repository /srv/git/<name>.git (branch main); returns its path. */
  createBareRepo(name: string): Promise<string>;
  /** Runs `sh -c cmd` in the container as `git`. */
  exec(cmd: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `git@<alias>:/srv/git/<name>.git` */
  url(name: string): string;
  remove(): Promise<void>;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Builds SSHD_IMAGE from BASE_IMAGE unless an image with that tag exists. */
export async function ensureSshdImage(): Promise<void> {
  try {
    await docker.getImage(SSHD_IMAGE).inspect();
    return;
  } catch {
    // not built yet
  }
  const context = pack();
  context.entry({ name: "Dockerfile" }, DOCKERFILE);
  context.entry({ name: "sshd_config" }, SSHD_CONFIG);
  context.finalize();
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: SSHD_IMAGE,
    buildargs: { BASE_IMAGE },
    labels: { "bot-bottle.test": "sshd-image" },
    rm: true,
    forcerm: true,
  });
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: BuildEvent[]) => {
      if (error) reject(error);
      else resolve(output);
    });
  });
  const failure = events.find((event) => event.error !== undefined);
  if (failure !== undefined) {
    const tail = events
      .map((event) => event.stream ?? "")
      .join("")
      .trimEnd()
      .split("\n")
      .slice(-15)
      .join("\n");
    throw new Error(
      `building ${SSHD_IMAGE} from ${BASE_IMAGE} failed: ${failure.errorDetail?.message ?? failure.error ?? "unknown error"}\n${tail}`,
    );
  }
}

export async function startSshdContainer(network: string, alias: string): Promise<SshContainer> {
  await ensureSshdImage();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bottle-sshd-container-"));
  const hostKey = path.join(dir, "ssh_host_ed25519_key");
  const identityFile = path.join(dir, "client_ed25519");
  const hostPublic = sshKeygen(hostKey, "bot-bottle-test-host").split(" ").slice(0, 2).join(" ");
  const clientPublic = sshKeygen(identityFile);

  const container = await docker.createContainer({
    Image: SSHD_IMAGE,
    Cmd: ["/usr/sbin/sshd", "-D", "-e"],
    Labels: { "bot-bottle.test": "sshd" },
    HostConfig: { NetworkMode: network },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } },
  });
  const remove = async (): Promise<void> => {
    await container.remove({ force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const exec = async (cmd: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const run = await container.exec({
      Cmd: ["sh", "-c", cmd],
      User: "git",
      WorkingDir: "/home/git",
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await run.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = "";
    let stderr = "";
    out.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    err.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    const info = await run.inspect();
    return { code: info.ExitCode ?? -1, stdout, stderr };
  };

  try {
    const files = pack();
    files.entry(
      { name: "etc/ssh/ssh_host_ed25519_key", mode: 0o600 },
      fs.readFileSync(hostKey, "utf8"),
    );
    files.entry({ name: "etc/ssh/ssh_host_ed25519_key.pub", mode: 0o644 }, `${hostPublic}\n`);
    files.entry({ name: "etc/ssh/test_authorized_keys", mode: 0o644 }, `${clientPublic}\n`);
    files.finalize();
    await container.putArchive(files as unknown as NodeJS.ReadableStream, { path: "/" });
    await container.start();
    // Listening when the server answers a key scan with the host key it was given.
    await waitFor(
      `sshd in ${SSHD_IMAGE} to listen`,
      async () => {
        const state = await container.inspect();
        if (!state.State.Running) {
          const log = await container.logs({ stdout: true, stderr: true, follow: false });
          throw new Error(`sshd's container stopped:\n${demux(log)}`);
        }
        const scan = await exec("ssh-keyscan -t ed25519 127.0.0.1 2>/dev/null");
        return scan.stdout.includes(hostPublic) ? true : undefined;
      },
      20_000,
    );
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    id: container.id,
    identityFile,
    knownHostsLine: `${alias} ${hostPublic}`,
    createBareRepo: async (name) => {
      const repo = `/srv/git/${name}.git`;
      const result = await exec(`git init --quiet --bare -b main '${repo}'`);
      if (result.code !== 0) throw new Error(`git init ${repo} failed: ${result.stderr}`);
      return repo;
    },
    exec,
    url: (name) => `git@${alias}:/srv/git/${name}.git`,
    remove,
  };
}
