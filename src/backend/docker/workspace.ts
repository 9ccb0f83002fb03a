/**
 * Files in and out of the agent container, through the Engine API's archive calls:
 * `--cwd` copies a host folder into the workspace, skills go into the agent's home, `stop` saves
 * the workspace and the home into the bottle's state and `resume` puts them back.
 */
import fs from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import type { EngineClient } from "./engine-client.js";
import { demuxStream } from "./engine-http.js";
import { pack as packFolder } from "tar-fs";
import { pack } from "tar-stream";
import { AGENT_HOME, WORKSPACE_DIR } from "../../core/plan/layout.js";
import type { ProvisionFile } from "../../providers/provision.js";

export const AGENT_UID = 1500;

// tar-fs and tar-stream return streamx Readables: pipeable, which is all the engine client needs.
type Archive = NodeJS.ReadableStream;

/** Copies a host folder (hidden files and .git included) to `target/prefix`, owned by the agent. */
async function copyIn(
  docker: EngineClient,
  containerId: string,
  folder: string,
  target: string,
  prefix = "",
): Promise<void> {
  const archive = packFolder(folder, {
    map: (header) => ({
      ...header,
      name: prefix === "" ? header.name : path.posix.join(prefix, header.name),
      uid: AGENT_UID,
      gid: AGENT_UID,
      uname: "agent",
      gname: "agent",
    }),
  });
  await docker
    .getContainer(containerId)
    .putArchive(archive as unknown as Archive, { path: target });
}

export function copyFolderIn(
  docker: EngineClient,
  containerId: string,
  folder: string,
): Promise<void> {
  return copyIn(docker, containerId, folder, WORKSPACE_DIR);
}

/**
 * Copies a skill folder to `to`, an absolute path under the agent's home. The folders above it
 * (`~/.codex`, `~/.codex/skills`) are made first, as the agent's: the engine would make them
 * root's, and the agent program could then not write its own home.
 */
export async function copySkillIn(
  docker: EngineClient,
  containerId: string,
  folder: string,
  to: string,
): Promise<void> {
  await putInHome(docker, containerId, [to], []);
  await copyIn(docker, containerId, folder, AGENT_HOME, path.posix.relative(AGENT_HOME, to));
}

/** Folders under the agent's home that hold `paths` (the home itself excluded), outermost first. */
function foldersAbove(paths: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const file of paths) {
    for (let dir = path.posix.dirname(file); dir.startsWith(`${AGENT_HOME}/`);) {
      folders.add(dir);
      dir = path.posix.dirname(dir);
    }
  }
  return [...folders].sort();
}

/** Puts files, and the folders above `paths`, into the container, all owned by the agent. */
async function putInHome(
  docker: EngineClient,
  containerId: string,
  paths: readonly string[],
  files: readonly ProvisionFile[],
): Promise<void> {
  const archive = pack();
  for (const dir of foldersAbove(paths)) {
    archive.entry({
      name: dir.replace(/^\//, ""),
      type: "directory",
      mode: 0o700,
      uid: AGENT_UID,
      gid: AGENT_UID,
    });
  }
  for (const file of files) {
    archive.entry(
      { name: file.path.replace(/^\//, ""), mode: file.mode, uid: AGENT_UID, gid: AGENT_UID },
      file.content,
    );
  }
  archive.finalize();
  await docker.getContainer(containerId).putArchive(archive as unknown as Archive, { path: "/" });
}

/**
 * Writes provider files (absolute paths) owned by the agent, and the folders above them under
 * its home (the engine would make them root's).
 */
export async function writeFilesIn(
  docker: EngineClient,
  containerId: string,
  files: readonly ProvisionFile[],
): Promise<void> {
  if (files.length === 0) return;
  await putInHome(
    docker,
    containerId,
    files.map((f) => f.path),
    files,
  );
}

/**
 * Saves a folder of the container as a tar file (entries start with the folder's own name).
 *
 * The tar is made inside the container (`tar` of the image, run as the agent), not read with the
 * Engine's archive call: under gVisor the container's writes live in the sandbox's own overlay,
 * which the engine's view of the root file system never shows, so an archive call would save
 * only what was copied in before the start (a stopped container is read through that call: nothing
 * runs in it). GNU tar's exit code 1 (a file changed while it was
 * read, as a running program's database may) still saves; anything else fails.
 */
export async function saveFolder(
  docker: EngineClient,
  containerId: string,
  folder: string,
  file: string,
): Promise<void> {
  const container = docker.getContainer(containerId);
  const temp = `${file}.tmp`;
  if (!(await container.inspect()).State.Running) {
    // A stopped container: nothing runs in it to hand a tar out; the archive API reads it.
    await pipeline(
      await container.getArchive({ path: folder }),
      fs.createWriteStream(temp, { mode: 0o600 }),
    );
    fs.renameSync(temp, file);
    return;
  }
  const exec = await container.exec({
    Cmd: ["/bin/tar", "-C", path.posix.dirname(folder), "-cf", "-", path.posix.basename(folder)],
    AttachStdout: true,
    AttachStderr: true,
    User: `${AGENT_UID}:${AGENT_UID}`,
  });
  const stream = await exec.start();
  const out = fs.createWriteStream(temp, { mode: 0o600 });
  const errors: Buffer[] = [];
  const err = new PassThrough();
  err.on("data", (chunk: Buffer) => errors.push(chunk));
  try {
    await new Promise<void>((resolve, reject) => {
      demuxStream(stream, out, err);
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    out.end();
    await finished(out);
    const code = (await exec.inspect()).ExitCode;
    if (code !== 0 && code !== 1) {
      const reason = Buffer.concat(errors).toString("utf8").trim().split("\n").slice(-3).join("; ");
      throw new Error(`saving ${folder} failed (tar exit ${String(code)}): ${reason}`);
    }
    fs.renameSync(temp, file);
  } catch (error) {
    out.destroy();
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** Restores a folder saved by saveFolder. */
export async function restoreFolder(
  docker: EngineClient,
  containerId: string,
  folder: string,
  file: string,
): Promise<void> {
  await docker
    .getContainer(containerId)
    .putArchive(fs.createReadStream(file), { path: path.posix.dirname(folder) });
}
