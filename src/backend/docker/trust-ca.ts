/**
 * Puts the bottle's CA certificate into the agent container's trust before it starts: as its own
 * file (`CA_CERT_PATH`, for NODE_EXTRA_CA_CERTS) and appended to the system bundle that curl, git,
 * Python and OpenSSL read (`SYSTEM_CA_BUNDLE`), both root-owned and read-only for the agent. The
 * image's own bundle is read back through the archive API so its roots are kept.
 */
import path from "node:path";
import type { ContainerHandle, EngineClient } from "./engine-client.js";
import { extract, pack } from "tar-stream";
import { CA_CERT_PATH, SYSTEM_CA_BUNDLE } from "../../core/plan/layout.js";

async function readImageBundle(container: ContainerHandle): Promise<string> {
  let archive: NodeJS.ReadableStream;
  try {
    archive = await container.getArchive({ path: SYSTEM_CA_BUNDLE });
  } catch {
    return ""; // An image without a system bundle: the bottle's CA is its only root.
  }
  const reader = extract();
  const chunks: Buffer[] = [];
  reader.on("entry", (_header, stream, next) => {
    stream.on("data", (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    stream.on("end", next);
    stream.resume();
  });
  await new Promise<void>((resolve, reject) => {
    reader.on("finish", resolve);
    reader.on("error", reject);
    archive.pipe(reader);
  });
  return Buffer.concat(chunks).toString("utf8");
}

export async function installCaTrust(
  docker: EngineClient,
  containerId: string,
  caPem: string,
): Promise<void> {
  const container = docker.getContainer(containerId);
  const bundle = await readImageBundle(container);
  const joined = `${bundle.trimEnd()}\n${caPem.trim()}\n`.replace(/^\n/, "");
  const archive = pack();
  for (const [file, content] of [
    [SYSTEM_CA_BUNDLE, joined],
    [CA_CERT_PATH, `${caPem.trim()}\n`],
  ] as const) {
    archive.entry({ name: path.posix.relative("/", file), mode: 0o644, uid: 0, gid: 0 }, content);
  }
  archive.finalize();
  await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/" });
}
