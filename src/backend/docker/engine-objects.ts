/**
 * Finding and removing a bottle's engine objects by label, never by name: this is what makes
 * `stop` and `cleanup` thorough even after the CLI was killed half-way through a start.
 */
import type { EngineClient } from "./engine-client.js";
import { BottleError } from "../../core/errors.js";
import { LABELS } from "../../core/plan/layout.js";

export interface BottleObjects {
  identity: string;
  /** The home label (homeTag) of the objects; undefined for objects made before it existed. */
  home: string | undefined;
  containers: { id: string; name: string; role: string; state: string }[];
  networks: { id: string; name: string }[];
  volumes: { name: string }[];
}

function identityFilter(identity?: string): { label: string[] } {
  return { label: [identity === undefined ? LABELS.identity : `${LABELS.identity}=${identity}`] };
}

/** Every labelled object, grouped by bottle identity. */
export async function findBottleObjects(
  docker: EngineClient,
  identity?: string,
): Promise<Map<string, BottleObjects>> {
  const filters = identityFilter(identity);
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  const groups = new Map<string, BottleObjects>();
  const group = (id: string, labels?: Record<string, string> | null): BottleObjects => {
    let found = groups.get(id);
    if (found === undefined) {
      found = { identity: id, home: undefined, containers: [], networks: [], volumes: [] };
      groups.set(id, found);
    }
    found.home ??= labels?.[LABELS.home];
    return found;
  };
  for (const c of containers) {
    const id = c.Labels[LABELS.identity];
    if (id !== undefined)
      group(id, c.Labels).containers.push({
        id: c.Id,
        name: (c.Names[0] ?? "").replace(/^\//, ""),
        role: c.Labels[LABELS.role] ?? "",
        state: c.State,
      });
  }
  for (const n of networks) {
    const id = n.Labels?.[LABELS.identity];
    if (id !== undefined) group(id, n.Labels).networks.push({ id: n.Id, name: n.Name });
  }
  for (const v of volumes) {
    const labels = v.Labels;
    const id = labels?.[LABELS.identity];
    if (id !== undefined) group(id, labels).volumes.push({ name: v.Name });
  }
  return groups;
}

function isNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { statusCode?: number }).statusCode === 404
  );
}

async function ignoreMissing(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function removeOnce(docker: EngineClient, objects: BottleObjects): Promise<void> {
  const agentFirst = [...objects.containers].sort((a, b) =>
    a.role === "agent" ? -1 : b.role === "agent" ? 1 : 0,
  );
  for (const c of agentFirst)
    await ignoreMissing(docker.getContainer(c.id).remove({ force: true, v: true }));
  for (const n of objects.networks) {
    // A container someone else attached to the bottle's network would keep it alive: detach it.
    const network = docker.getNetwork(n.id);
    try {
      const info = await network.inspect();
      for (const id of Object.keys(info.Containers ?? {})) {
        await ignoreMissing(network.disconnect({ Container: id, Force: true }));
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    await ignoreMissing(network.remove());
  }
  for (const v of objects.volumes) await ignoreMissing(docker.removeVolume(v.name));
}

/**
 * Removes every object labelled with the bottle's identity: containers first, then networks and
 * volumes. Looks again by label after each pass, because a start killed half-way may have left a
 * request in the engine that creates one more object after the first look.
 */
export async function removeBottleObjects(docker: EngineClient, identity: string): Promise<void> {
  let lastError: unknown;
  for (let pass = 0; pass < 5; pass++) {
    const objects = (await findBottleObjects(docker, identity)).get(identity);
    if (objects === undefined) return;
    try {
      await removeOnce(docker, objects);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 200 * (pass + 1)));
    }
  }
  const left = (await findBottleObjects(docker, identity)).get(identity);
  if (left !== undefined) {
    const message = lastError instanceof Error ? lastError.message : "objects remain";
    throw new BottleError(
      "cleanup_incomplete",
      `Could not remove every object of bottle ${identity}: ${message}`,
      {
        hint: "Run `bottle cleanup` again; `docker ps -a --filter label=bot-bottle.identity` shows what is left.",
      },
    );
  }
}

/**
 * The host folder a sidecar container keeps its state in (its bind mount at `stateDir`), which
 * holds its control socket: how cleanup asks a bottle of any home whether it is alive.
 */
export async function sidecarStateFolder(
  docker: EngineClient,
  containerId: string,
  stateDir: string,
): Promise<string | undefined> {
  try {
    const info = await docker.getContainer(containerId).inspect();
    return info.Mounts?.find((m) => m.Destination === stateDir)?.Source;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
