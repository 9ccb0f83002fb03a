/**
 * The Engine API calls bot-bottle makes, typed, over engine-http.ts: containers (create, start,
 * inspect, wait, logs, archives, exec, remove), networks, volumes, images (inspect, build), and
 * the engine's version and info. Shaped like the parts of dockerode it replaced. Errors are
 * EngineError (statusCode 404: no such object).
 */
import type http from "node:http";
import type { Query } from "./engine-http.js";
import { EngineHttp, demuxBuffer, engineEndpoint } from "./engine-http.js";

export interface ContainerSpec {
  name?: string;
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  User?: string;
  Env?: string[];
  Labels?: Record<string, string>;
  HostConfig?: Record<string, unknown>;
  NetworkingConfig?: Record<string, unknown>;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: string;
}

export interface ContainerInfo {
  Id: string;
  State: { Running: boolean; Status?: string; ExitCode?: number };
  Mounts?: { Destination?: string; Source?: string }[];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export interface ExecSpec {
  Cmd: string[];
  AttachStdout: boolean;
  AttachStderr: boolean;
  User?: string;
  WorkingDir?: string;
}

type Filters = Record<string, string[]>;

/** A command run in a container: its (multiplexed) output stream, then its exit code. */
export class ExecHandle {
  constructor(
    private readonly http: EngineHttp,
    readonly id: string,
  ) {}

  /** Starts it; the stream ends when the command does. */
  start(): Promise<http.IncomingMessage> {
    return this.http.open(
      "POST",
      `/exec/${this.id}/start`,
      {},
      { json: { Detach: false, Tty: false } },
    );
  }

  inspect(): Promise<{ ExitCode: number | null; Running: boolean }> {
    return this.http.call("GET", `/exec/${this.id}/json`);
  }
}

export class ContainerHandle {
  constructor(
    private readonly http: EngineHttp,
    readonly id: string,
  ) {}

  private get path(): string {
    return `/containers/${encodeURIComponent(this.id)}`;
  }

  /** Starts it (an already running container is no error: the engine answers 304). */
  async start(): Promise<void> {
    await this.http.call("POST", `${this.path}/start`);
  }

  inspect(): Promise<ContainerInfo> {
    return this.http.call("GET", `${this.path}/json`);
  }

  async remove(options: { force?: boolean; v?: boolean } = {}): Promise<void> {
    await this.http.call("DELETE", this.path, options);
  }

  wait(): Promise<{ StatusCode: number }> {
    return this.http.call("POST", `${this.path}/wait`);
  }

  /** Its output so far, stdout and stderr together (frames removed). */
  async logs(): Promise<Buffer> {
    return demuxBuffer(await this.http.bytes("GET", `${this.path}/logs`, { stdout: 1, stderr: 1 }));
  }

  /** Its output as it comes (multiplexed: see demuxStream), until it stops or the stream is destroyed. */
  followLogs(): Promise<http.IncomingMessage> {
    return this.http.open("GET", `${this.path}/logs`, { follow: 1, stdout: 1, stderr: 1 });
  }

  /** Unpacks a tar stream at `path` in the container. */
  async putArchive(archive: NodeJS.ReadableStream, options: { path: string }): Promise<void> {
    await this.http.call("PUT", `${this.path}/archive`, options, { stream: archive });
  }

  /** A tar stream of `path` in the container. */
  getArchive(options: { path: string }): Promise<http.IncomingMessage> {
    return this.http.open("GET", `${this.path}/archive`, options);
  }

  async exec(spec: ExecSpec): Promise<ExecHandle> {
    const { Id } = await this.http.call<{ Id: string }>(
      "POST",
      `${this.path}/exec`,
      {},
      { json: spec },
    );
    return new ExecHandle(this.http, Id);
  }
}

export class NetworkHandle {
  constructor(
    private readonly http: EngineHttp,
    readonly id: string,
  ) {}

  inspect(): Promise<{ Containers?: Record<string, unknown> }> {
    return this.http.call("GET", `/networks/${encodeURIComponent(this.id)}`);
  }

  async disconnect(options: { Container: string; Force: boolean }): Promise<void> {
    await this.http.call(
      "POST",
      `/networks/${encodeURIComponent(this.id)}/disconnect`,
      {},
      { json: options },
    );
  }

  async remove(): Promise<void> {
    await this.http.call("DELETE", `/networks/${encodeURIComponent(this.id)}`);
  }
}

/** One Docker engine. Cheap to make; connections open on the first call. */
export class EngineClient {
  private readonly http: EngineHttp;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.http = new EngineHttp(engineEndpoint(env));
  }

  version(): Promise<{ Version: string; ApiVersion: string }> {
    return this.http.call("GET", "/version");
  }

  info(): Promise<Record<string, unknown>> {
    return this.http.call("GET", "/info");
  }

  getContainer(id: string): ContainerHandle {
    return new ContainerHandle(this.http, id);
  }

  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    const { name, ...body } = spec;
    const query: Query = name === undefined ? {} : { name };
    const { Id } = await this.http.call<{ Id: string }>("POST", "/containers/create", query, {
      json: body,
    });
    return new ContainerHandle(this.http, Id);
  }

  listContainers(options: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.http.call("GET", "/containers/json", options);
  }

  getNetwork(id: string): NetworkHandle {
    return new NetworkHandle(this.http, id);
  }

  async createNetwork(spec: {
    Name: string;
    Driver: string;
    Labels: Record<string, string>;
    IPAM?: { Driver: string; Config: { Subnet: string; Gateway: string }[] };
  }): Promise<NetworkHandle> {
    const { Id } = await this.http.call<{ Id: string }>(
      "POST",
      "/networks/create",
      {},
      { json: spec },
    );
    return new NetworkHandle(this.http, Id);
  }

  listNetworks(
    options: { filters?: Filters } = {},
  ): Promise<{ Id: string; Name: string; Labels?: Record<string, string> | null }[]> {
    return this.http.call("GET", "/networks", options);
  }

  async createVolume(spec: { Name: string; Labels: Record<string, string> }): Promise<void> {
    await this.http.call("POST", "/volumes/create", {}, { json: spec });
  }

  async removeVolume(name: string): Promise<void> {
    await this.http.call("DELETE", `/volumes/${encodeURIComponent(name)}`);
  }

  async listVolumes(
    options: { filters?: Filters } = {},
  ): Promise<{ Name: string; Labels: Record<string, string> | null }[]> {
    const answer = await this.http.call<{
      Volumes: { Name: string; Labels: Record<string, string> | null }[] | null;
    }>("GET", "/volumes", options);
    return answer.Volumes ?? [];
  }

  /** The image's description; rejects with EngineError 404 when there is no such image. */
  inspectImage(tag: string): Promise<{ Id: string }> {
    return this.http.call("GET", `/images/${tag}/json`);
  }

  /** Builds a tar context with the classic builder; the answer streams the build's JSON events. */
  buildImage(
    context: NodeJS.ReadableStream,
    options: { t: string; buildargs: Record<string, string>; labels: Record<string, string> },
  ): Promise<http.IncomingMessage> {
    return this.http.open("POST", "/build", { ...options, rm: 1, forcerm: 1 }, { stream: context });
  }
}
