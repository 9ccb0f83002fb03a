/**
 * What every operator action gets: the host (state home, environment) and the Docker backend,
 * loaded on first use. The CLI and the dashboard build one each; the actions in this folder are
 * the only implementation of what the operator can do, shared by both.
 */
import type { DockerBackend } from "../backend/docker/docker-backend.js";
import { packageRoot } from "../core/host/package-root.js";
import type { HostEnv } from "../core/host/paths.js";

export interface OperatorContext {
  host: HostEnv;
  /** The Docker backend; the engine client is loaded on the first call only. */
  backend(): Promise<DockerBackend>;
}

/**
 * The backend, loaded lazily: the engine client takes a noticeable part of a second to load,
 * which commands that never touch the engine (help, validate, dry runs) should not pay.
 */
export async function loadDockerBackend(host: HostEnv): Promise<DockerBackend> {
  const [{ DockerBackend }, { createDockerClient }] = await Promise.all([
    import("../backend/docker/docker-backend.js"),
    import("../backend/docker/engine.js"),
  ]);
  return new DockerBackend(createDockerClient(host.env), host, packageRoot());
}

export function operatorContext(host: HostEnv): OperatorContext {
  let loaded: Promise<DockerBackend> | undefined;
  return {
    host,
    backend: () => (loaded ??= loadDockerBackend(host)),
  };
}
