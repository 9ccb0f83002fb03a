/**
 * Brings a planned bottle up on Docker: images, the bottle's CA (made at the first start), socket
 * volume and sidecar network side by side; the sidecar created once its image, volume and network
 * exist, started once the CA is written (ready, tokens handed over its control socket); beside it
 * the agent created, prepared (CA trusted, workspace copied in) and started (relay ready) without
 * waiting for the sidecar: it reaches nothing until the sidecar holds the tokens, and its own
 * command runs only after this returns, when both are done. Each object is labelled and
 * its removal pushed on a teardown stack as it comes up; any failure unwinds it, newest first.
 *
 * The agent container has no network (`NetworkMode: none`), no capabilities, no-new-privileges,
 * a non-root user, limits from the plan, and runs under the plan's runtime (runsc when the engine
 * has it). Its only mount is the socket volume, read-only. The sidecar runs under runc on its own
 * bridge network: it needs a route out, and the runsc registration here is network-less.
 * `timings` marks when each phase ended, for `bench:start`.
 */
import { SIDECAR_CONTAINER, sidecarNodeOptions } from "../../core/contract/sidecar-limits.js";
import type { SidecarUser } from "./sidecar-user.js";
import { handStateTo, userSpec } from "./sidecar-user.js";
import type { EngineClient, NetworkHandle } from "./engine-client.js";
import { EngineError } from "./engine-http.js";
import { BottleError } from "../../core/errors.js";
import type { BottleSecrets } from "../../core/host/read-secrets.js";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { AGENT_HOME, GATES, LABELS, SOCKET_DIR, WORKSPACE_DIR } from "../../core/plan/layout.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { writeJsonAtomic } from "../../core/state/bottle-state.js";
import { agentNproc, containerPidsLimit } from "../../core/plan/process-limits.js";
import {
  DEFAULT_SUBNET_POOL,
  SUBNET_ATTEMPTS,
  bottleSubnet,
} from "../../core/plan/network-subnet.js";
import type { PushGrant } from "../../core/state/push-grants.js";
import { grantedBranches, readPushGrants } from "../../core/state/push-grants.js";
import type { SidecarConfig } from "../../sidecar/sidecar-config.js";
import { READY_LINE, SIDECAR_STATE_DIR } from "../../sidecar/sidecar-config.js";
import type { Progress } from "./build-image.js";
import { ensureImage } from "./build-image.js";
import { waitForLogLine } from "./container-logs.js";
import { controlRequest } from "./control-client.js";
import type { StartTimings } from "./start-timings.js";
import { TeardownStack } from "./teardown-stack.js";
import { AGENT_UID, copyFolderIn, copySkillIn, restoreFolder, writeFilesIn } from "./workspace.js";
import { provisionFiles } from "../../providers/provision.js";
import { readUpstreamCa } from "../../core/host/upstream-ca.js";
import { readKnownHosts } from "../../core/host/known-hosts.js";
import { ensureBottleCa } from "../../core/tls/bottle-ca.js";
import { installCaTrust } from "./trust-ca.js";
import { workspaceGitConfig } from "./workspace-remotes.js";

export const RELAY_READY_LINE = "bot-bottle relay ready";
const READY_TIMEOUT_MS = 30_000;

export interface LaunchInput {
  plan: BottlePlan;
  paths: BottlePaths;
  /** Package root (image recipes). */
  root: string;
  /** Host environment: values of variables the plan forwards. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** Who the sidecar runs as (sidecar-user.ts): never root. */
  sidecarUser: SidecarUser;
  /**
   * Tokens and keys for the sidecar, handed over its control socket once it is ready. Null for a
   * warm pool's bottle: its sidecar waits without them (every gate refuses) until it is taken.
   */
  secrets: BottleSecrets | null;
  /** Saved workspace and home to restore (resume); a fresh bottle is provisioned instead. */
  resumeFrom?: { workspace: string | undefined; home: string | undefined };
  progress: Progress;
  /** Marks the end of each phase (for the start's breakdown). */
  timings?: StartTimings;
}

export interface LaunchedBottle {
  agentContainer: string;
  sidecarContainer: string;
}

function agentEnv(plan: BottlePlan, hostEnv: LaunchInput["hostEnv"]): string[] {
  const env: string[] = [];
  for (const [name, source] of Object.entries(plan.env)) {
    if ("value" in source) env.push(`${name}=${source.value}`);
    else if ("from_bottle" in source) env.push(`${name}=${source.from_bottle}`);
    else {
      const value = hostEnv[source.from_host];
      if (value !== undefined) env.push(`${name}=${value}`);
    }
  }
  return env;
}

/**
 * The sidecar's configuration for `plan`. Push branches are the manifest's plus those the operator
 * granted since (approved push-branch requests, `push-grants.json`), so a resume keeps them.
 */
export function sidecarConfig(
  plan: BottlePlan,
  upstreamCa: string[],
  knownHosts: Readonly<Record<string, string>>,
  pushGrants: readonly PushGrant[] = [],
): SidecarConfig {
  return {
    identity: plan.identity,
    socket_dir: SOCKET_DIR,
    state_dir: SIDECAR_STATE_DIR,
    egress: { allow: plan.egress.allow, deny: plan.egress.deny },
    dlp: plan.egress.dlp,
    credentials: plan.credentials.map(({ name, path, upstream, role, inject }) => ({
      name,
      path,
      upstream,
      role,
      inject,
    })),
    git: plan.git.map(({ name, upstream, push }) => ({
      name,
      upstream,
      push: { ...push, branches: grantedBranches(name, push.branches, pushGrants) },
      known_hosts: knownHosts[name] ?? "",
    })),
    upstream_ca: upstreamCa,
    supervise: plan.supervise,
  };
}

/**
 * The gates the agent's relay maps to loopback ports: the git gate when there are repositories,
 * the supervise gate when the bottle has supervise on.
 */
export function relayedGates(plan: Pick<BottlePlan, "git" | "supervise">) {
  return [
    GATES.egress,
    GATES.credentials,
    ...(plan.git.length > 0 ? [GATES.git] : []),
    ...(plan.supervise ? [GATES.supervise] : []),
  ];
}

const HARDENING = { CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"] };

type Labeller = (role: string) => Record<string, string>;

function nprocUlimit(plan: BottlePlan): { Name: string; Soft: number; Hard: number }[] {
  const nproc = agentNproc(plan.resources.pids, plan.runtime.resolved);
  return nproc === undefined ? [] : [{ Name: "nproc", Soft: nproc, Hard: nproc }];
}

/**
 * The sidecar: never root, a read-only root file system (its state folder and socket volume are
 * its own mounts; /tmp a small tmpfs for the git gate's private key folder), memory and pids
 * limits (core/contract/sidecar-limits.ts). Under runc: runsc is registered network-less here,
 * and the sidecar needs a route out.
 */
async function createSidecar(
  docker: EngineClient,
  input: LaunchInput,
  volume: string,
  labels: Labeller,
) {
  return docker.createContainer({
    name: input.plan.containers.sidecar,
    Image: input.plan.images.sidecar.tag,
    User: userSpec(input.sidecarUser),
    Env: ["HOME=/tmp", `NODE_OPTIONS=${sidecarNodeOptions()}`],
    Labels: labels("sidecar"),
    HostConfig: {
      ...HARDENING,
      NetworkMode: input.plan.network.sidecar,
      Runtime: "runc",
      Init: true,
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,nosuid,nodev,noexec,mode=1777,size=${SIDECAR_CONTAINER.tmpBytes}` },
      Memory: SIDECAR_CONTAINER.memoryBytes,
      MemorySwap: SIDECAR_CONTAINER.memoryBytes,
      PidsLimit: SIDECAR_CONTAINER.pids,
      Binds: [`${input.paths.dir}:${SIDECAR_STATE_DIR}`],
      Mounts: [{ Type: "volume", Source: volume, Target: SOCKET_DIR }],
    },
  });
}

async function createAgent(
  docker: EngineClient,
  input: LaunchInput,
  volume: string,
  labels: Labeller,
) {
  const { plan } = input;
  return docker.createContainer({
    name: plan.containers.agent,
    Image: plan.images.agent.tag,
    Cmd: relayedGates(plan).map((gate) => `${gate.port}=${SOCKET_DIR}/${gate.socket}`),
    User: `${AGENT_UID}:${AGENT_UID}`,
    Env: agentEnv(plan, input.hostEnv),
    Labels: labels("agent"),
    HostConfig: {
      ...HARDENING,
      NetworkMode: "none",
      Runtime: plan.runtime.resolved,
      Init: true,
      // The agent's user meets RLIMIT_NPROC (its command fails); the cgroup, with room for the
      // runtime's own threads, is the backstop (core/plan/process-limits.ts). Computed here, not
      // read from the plan, so a plan saved before the field existed (resume) is limited too.
      PidsLimit: containerPidsLimit(plan.resources.pids, plan.runtime.resolved),
      Ulimits: nprocUlimit(plan),
      Memory: plan.resources.memory_bytes,
      MemorySwap: plan.resources.memory_bytes,
      NanoCpus: plan.resources.nano_cpus,
      // nocopy: the agent image's own /run/bot-bottle (root, 0755) must not be copied over the
      // mode the sidecar's image gave the still empty volume (1777): the sidecar is not root.
      Binds: [`${volume}:${SOCKET_DIR}:ro,nocopy`],
    },
  });
}

/** Fills the created (not yet started) agent container: saved state on resume, else provisioning. */
async function prepareAgent(
  docker: EngineClient,
  agentId: string,
  input: LaunchInput,
): Promise<void> {
  const { plan, progress } = input;
  if (input.resumeFrom !== undefined) {
    const { workspace, home } = input.resumeFrom;
    if (workspace !== undefined) await restoreFolder(docker, agentId, WORKSPACE_DIR, workspace);
    if (home !== undefined) await restoreFolder(docker, agentId, AGENT_HOME, home);
    return;
  }
  await writeFilesIn(docker, agentId, provisionFiles(plan));
  for (const skill of plan.skills) await copySkillIn(docker, agentId, skill.from, skill.to);
  if (plan.workspace.copy_from !== null) {
    progress(`copying ${plan.workspace.copy_from} into ${plan.workspace.path}`);
    await copyFolderIn(docker, agentId, plan.workspace.copy_from);
    const gitConfig = workspaceGitConfig(plan);
    if (gitConfig !== undefined) await writeFilesIn(docker, agentId, [gitConfig]);
  }
}

/**
 * The bottle's own network, on a /27 of the project's range (network-subnet.ts): candidates in
 * turn until the engine takes one (another network may hold a subnet: the engine refuses it).
 */
async function createBottleNetwork(
  docker: EngineClient,
  plan: BottlePlan,
  pool: string,
  networkLabels: Record<string, string>,
): Promise<NetworkHandle> {
  let last: unknown;
  for (let attempt = 0; attempt < SUBNET_ATTEMPTS; attempt++) {
    const { subnet, gateway } = bottleSubnet(plan.identity, attempt, pool);
    try {
      return await docker.createNetwork({
        Name: plan.network.sidecar,
        Driver: "bridge",
        Labels: networkLabels,
        IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] },
      });
    } catch (error) {
      if (!(error instanceof EngineError) || !/overlap/i.test(error.message)) throw error;
      last = error;
    }
  }
  throw new BottleError(
    "launch_failed",
    `No free subnet for the bottle's network in ${pool} after ${String(SUBNET_ATTEMPTS)} tries (${last instanceof Error ? last.message : "overlaps"}).`,
    {
      hint: "Stop bottles you no longer need (`bottle list`), or set BOT_BOTTLE_SUBNET_POOL to a larger private range no network of yours uses.",
    },
  );
}

/** Waits for every task to settle (so none is still creating objects), then throws the first failure. */
async function allOrFirstError(tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

export async function launchBottle(
  docker: EngineClient,
  input: LaunchInput,
): Promise<LaunchedBottle> {
  const { plan, paths, progress } = input;
  const mark = (phase: string): void => input.timings?.mark(phase);
  const labels: Labeller = (role) => ({ ...plan.labels, [LABELS.role]: role });
  const stack = new TeardownStack();
  const [socketMount] = plan.mounts;
  if (socketMount === undefined) throw new Error("plan has no socket volume");
  const volume = socketMount.name;
  try {
    writeJsonAtomic(
      paths.sidecarConfig,
      sidecarConfig(
        plan,
        readUpstreamCa(input.hostEnv),
        readKnownHosts(plan),
        readPushGrants(paths),
      ),
    );
    // Each step waits only for what it needs, so the sidecar (on the critical path) is created
    // as soon as its image, volume and network exist and started as soon as its CA is written.
    // Every task is in `tasks`: on a failure all of them settle before the stack unwinds.
    const caPem = (async () => {
      const { certPem } = await ensureBottleCa(paths.dir, plan.identity);
      mark("bottle CA");
      return certPem;
    })();
    const sidecarImage = ensureImage(docker, input.root, plan.images.sidecar, progress);
    // One build at a time (a first start builds both; their output would interleave).
    const agentImage = sidecarImage.then(async () => {
      await ensureImage(docker, input.root, plan.images.agent, progress);
      mark("images");
    });
    const socketVolume = (async () => {
      await docker.createVolume({ Name: volume, Labels: labels("sockets") });
      stack.push("socket volume", () => docker.removeVolume(volume));
      mark("socket volume");
    })();
    const network = (async () => {
      const made = await createBottleNetwork(
        docker,
        plan,
        input.hostEnv["BOT_BOTTLE_SUBNET_POOL"] ?? DEFAULT_SUBNET_POOL,
        labels("network"),
      );
      stack.push("network", () => made.remove());
      mark("network");
    })();
    // The sidecar is created first: its image gives the fresh socket volume its mode (1777).
    const sidecar = (async () => {
      await Promise.all([sidecarImage, socketVolume, network]);
      const created = await createSidecar(docker, input, volume, labels);
      stack.push("sidecar", () => created.remove({ force: true }));
      mark("sidecar created");
      return created;
    })();
    const sidecarHoldsSecrets = (async () => {
      const created = await sidecar;
      await caPem;
      handStateTo(paths.dir, input.sidecarUser);
      progress(`starting sidecar and agent (${plan.runtime.resolved})`);
      await created.start();
      mark("sidecar started");
      await waitForLogLine(docker, created.id, READY_LINE, READY_TIMEOUT_MS);
      mark("sidecar ready");
      // A pooled bottle gets its secrets when it is taken: until then it refuses everything.
      if (input.secrets === null) return;
      await controlRequest(paths.controlSocket, "PUT", "/secrets", input.secrets);
      mark("sidecar holds secrets");
    })();
    const agentPrepared = (async () => {
      await Promise.all([agentImage, sidecar]);
      const created = await createAgent(docker, input, volume, labels);
      stack.push("agent", () => created.remove({ force: true }));
      mark("agent created");
      await Promise.all([
        prepareAgent(docker, created.id, input),
        caPem.then((pem) => installCaTrust(docker, created.id, pem)),
      ]);
      mark("agent provisioned");
      return created;
    })();
    // The agent starts as soon as it is prepared, side by side with the sidecar's boot: its main
    // process is only the relay, which maps loopback ports to the gates' sockets and destroys
    // every connection it cannot pass on. Until the sidecar holds the secrets those sockets are
    // missing (the relay's connection fails) or every gate answers 503, as for a pooled bottle:
    // fail closed. The agent's own command is exec'ed only after this function returns, that is
    // once the sidecar holds the secrets. A start killed before the hand-over leaves at most a
    // running relay that reaches nothing (the keeper of a dead start ends) for `bottle cleanup`.
    const agentReady = (async () => {
      const created = await agentPrepared;
      await created.start();
      mark("agent started");
      await waitForLogLine(docker, created.id, RELAY_READY_LINE, READY_TIMEOUT_MS);
      mark("agent ready");
      return created;
    })();
    const tasks = [caPem, sidecarImage, agentImage, socketVolume, network, sidecar];
    await allOrFirstError([...tasks, sidecarHoldsSecrets, agentPrepared, agentReady]);
    const agent = await agentReady;
    const sidecarId = (await sidecar).id;
    return { agentContainer: agent.id, sidecarContainer: sidecarId };
  } catch (error) {
    const leftovers = await stack.unwind();
    if (error instanceof BottleError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new BottleError("launch_failed", `Starting bottle ${plan.identity} failed: ${message}`, {
      hint:
        leftovers.length > 0
          ? `Some objects could not be removed (${leftovers.join(", ")}); run \`bottle cleanup\`.`
          : "Nothing was left behind. `bottle doctor` checks the engine.",
      cause: error,
    });
  }
}
