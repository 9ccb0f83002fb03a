/**
 * The Docker Engine API client and what bot-bottle reads of the engine. Talks to the engine that
 * DOCKER_HOST names (else /var/run/docker.sock) through engine-client.ts, never through the
 * docker CLI.
 */
import { EngineClient } from "./engine-client.js";
import { BottleError } from "../../core/errors.js";
import type { EngineFacts } from "../../core/plan/runtime.js";

export function createDockerClient(
  env: Readonly<Record<string, string | undefined>> = process.env,
): EngineClient {
  return new EngineClient(env);
}

export interface RuntimeInfo {
  name: string;
  path: string;
  args: string[];
}

export interface EngineInfo {
  version: string;
  apiVersion: string;
  runtimes: RuntimeInfo[];
  defaultRuntime: string;
}

interface RawRuntime {
  path?: string;
  runtimeArgs?: string[];
}

export async function readEngineInfo(docker: EngineClient): Promise<EngineInfo> {
  try {
    const [version, info] = await Promise.all([docker.version(), docker.info()]);
    const runtimes = Object.entries((info["Runtimes"] ?? {}) as Record<string, RawRuntime>).map(
      ([name, raw]) => ({
        name,
        path: raw.path ?? "",
        args: raw.runtimeArgs ?? [],
      }),
    );
    return {
      version: version.Version,
      apiVersion: version.ApiVersion,
      runtimes,
      defaultRuntime: typeof info["DefaultRuntime"] === "string" ? info["DefaultRuntime"] : "runc",
    };
  } catch (cause) {
    throw new BottleError("engine_unreachable", "Cannot reach the Docker engine.", {
      hint: "Start dockerd (as root: `dockerd &`, or `sudo systemctl start docker`), or set DOCKER_HOST. `bottle doctor` checks again.",
      cause,
    });
  }
}

export function engineFacts(info: EngineInfo): EngineFacts {
  return { runtimes: info.runtimes.map((r) => r.name), source: "engine" };
}
