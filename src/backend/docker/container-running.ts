/**
 * Whether a container runs, asked of the Engine API with node:http alone (GET
 * /containers/<name>/json on the engine's unix socket). The pooled start's path uses it instead
 * of the engine client, whose loading alone takes longer than the whole pooled start. An engine
 * reached over TCP (DOCKER_HOST=tcp://...) is asked through the engine client.
 */
import http from "node:http";

function socketPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const host = env["DOCKER_HOST"];
  if (host === undefined || host === "") return "/var/run/docker.sock";
  return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
}

function inspectOverSocket(socket: string, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { socketPath: socket, path: `/containers/${encodeURIComponent(name)}/json`, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            resolve(false);
            return;
          }
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
            const state = (body as { State?: { Running?: unknown } } | null)?.State;
            resolve(state?.Running === true);
          } catch {
            resolve(false);
          }
        });
        res.on("error", () => {
          resolve(false);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", () => {
      resolve(false);
    });
  });
}

/** True when the named container exists and runs; false on any doubt (fail closed). */
export async function containerRunning(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): Promise<boolean> {
  const socket = socketPath(env);
  if (socket !== undefined) return inspectOverSocket(socket, name);
  const { createDockerClient } = await import("./engine.js");
  try {
    const info = await createDockerClient(env).getContainer(name).inspect();
    return info.State.Running;
  } catch {
    return false;
  }
}
