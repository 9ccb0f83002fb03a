/**
 * The agent's workspace in and out of its container, through the Engine API's archive calls:
 * `--cwd` copies a host folder in; `stop` saves /workspace into the bottle's state and `resume`
 * puts it back.
 */
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import { pack } from "tar-fs";
import { WORKSPACE_DIR } from "../../core/plan/layout.js";

export const AGENT_UID = 1500;

/** Copies a host folder (hidden files and .git included) into the workspace, owned by the agent. */
export async function copyFolderIn(
  docker: Docker,
  containerId: string,
  folder: string,
): Promise<void> {
  const archive = pack(folder, {
    map: (header) => ({
      ...header,
      uid: AGENT_UID,
      gid: AGENT_UID,
      uname: "agent",
      gname: "agent",
    }),
  });
  // tar-fs returns a streamx Readable: pipeable, which is all dockerode needs.
  await docker
    .getContainer(containerId)
    .putArchive(archive as unknown as NodeJS.ReadableStream, { path: WORKSPACE_DIR });
}

/** Saves the workspace as a tar file (its entries start with `workspace/`). */
export async function saveWorkspace(
  docker: Docker,
  containerId: string,
  file: string,
): Promise<void> {
  const stream = await docker.getContainer(containerId).getArchive({ path: WORKSPACE_DIR });
  const temp = `${file}.tmp`;
  await pipeline(stream, fs.createWriteStream(temp, { mode: 0o600 }));
  fs.renameSync(temp, file);
}

/** Restores a workspace saved by saveWorkspace. */
export async function restoreWorkspace(
  docker: Docker,
  containerId: string,
  file: string,
): Promise<void> {
  await docker.getContainer(containerId).putArchive(fs.createReadStream(file), { path: "/" });
}
