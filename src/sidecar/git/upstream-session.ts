/**
 * A push to an SSH upstream through a receive-pack session of the gate's own
 * (send-pack-protocol.ts), opened as soon as a push arrives: ssh's session and the upstream's ref
 * advertisement then cost nothing while the push is read and judged. Nothing of the push is sent
 * before its verdict; a refused push closes the session with an empty command list, and the
 * upstream changes nothing. An accepted push is first held against the upstream's own refs (a ref
 * that is not where the agent saw it would be refused only after the objects landed there, so
 * nothing is sent at all); then it sends the ref updates and a pack made of what the new tips reach
 * and the upstream lacks (push-pack.ts), never the agent's pack as it is.
 *
 * `push` answers null, having sent nothing, when this way cannot be used (the session failed or
 * ended, or the upstream lacks a capability): the caller then pushes with git (upstream-push.ts),
 * which also gives git's own words for a failure.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { spawn } from "node:child_process";
import { pipeline } from "node:stream/promises";
import type { GitEnv } from "./git-process.js";
import { FLUSH } from "./pkt-line.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { UpstreamAdvertisement } from "./send-pack-protocol.js";
import {
  parseUpstreamAdvertisement,
  pushCommands,
  readUpstreamReport,
  receivePackCommand,
  sshDestination,
  staleRefs,
  unsupportedBy,
} from "./send-pack-protocol.js";
import type { UpstreamPushResult } from "./upstream-push.js";
import { presentObjects, startPushPack } from "./push-pack.js";

function exitOf(child: {
  once: (event: "close", listener: (code: number | null) => void) => void;
}) {
  return new Promise<number>((resolve) => {
    child.once("close", (code) => {
      resolve(code ?? 1);
    });
  });
}

export class UpstreamSession {
  private readonly output: Buffer[] = [];
  private readonly advertised: Promise<UpstreamAdvertisement | null>;
  private readonly exited: Promise<void>;
  private ended = false;
  private used = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdin.on("error", () => undefined);
    child.stderr.resume();
    this.exited = new Promise((resolve) => {
      child.once("close", () => {
        this.ended = true;
        resolve();
      });
      child.once("error", () => {
        this.ended = true;
        resolve();
      });
    });
    this.advertised = new Promise((resolve) => {
      const onData = (chunk: Buffer): void => {
        this.output.push(chunk);
        try {
          const advertisement = parseUpstreamAdvertisement(Buffer.concat(this.output));
          if (advertisement === null) return;
          child.stdout.off("data", onData);
          this.output.splice(
            0,
            this.output.length,
            Buffer.concat(this.output).subarray(advertisement.end),
          );
          child.stdout.on("data", (more: Buffer) => this.output.push(more));
          resolve(advertisement);
        } catch {
          resolve(null);
        }
      };
      child.stdout.on("data", onData);
      void this.exited.then(() => {
        resolve(null);
      });
    });
  }

  /** A session to `upstream` when it is an SSH URL, else null. `env` holds GIT_SSH_COMMAND. */
  static open(upstream: string, env: GitEnv): UpstreamSession | null {
    const destination = sshDestination(upstream);
    const ssh = env["GIT_SSH_COMMAND"];
    // A host starting with "-" would be read as an option: git refuses it, and so does this.
    if (destination === null || ssh === undefined || /^-|@-/.test(destination.host)) return null;
    const args = [
      ...(destination.port === null ? [] : ["-p", destination.port]),
      destination.host,
      receivePackCommand(destination.path),
    ];
    // GIT_SSH_COMMAND is a shell command, as git runs it: its arguments come after it.
    const child = spawn("sh", ["-c", `${ssh} "$@"`, "ssh", ...args], {
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new UpstreamSession(child);
  }

  /**
   * Sends the updates and the pack of what they add (made in `env`, which sees the quarantine),
   * and reads what the upstream did with each ref; null (nothing sent) when this session cannot
   * take the push. Refs the upstream has moved since the agent saw them: nothing is sent, and
   * each ref says why.
   */
  async push(updates: readonly RefUpdate[], env: GitEnv): Promise<UpstreamPushResult | null> {
    const advertisement = await this.advertised;
    if (advertisement === null || this.ended || unsupportedBy(advertisement, updates) !== null) {
      return null;
    }
    const stale = staleRefs(advertisement, updates);
    if (stale.size > 0) {
      const names = [...stale.keys()].join(", ");
      return {
        refs: updates.map((update) => ({
          ref: update.ref,
          error:
            stale.get(update.ref) ??
            `not sent: the push was held back because the upstream moved ${names}`,
        })),
        messages: [],
      };
    }
    this.used = true;
    this.child.stdin.write(pushCommands(updates, advertisement));
    if (updates.some((update) => update.new !== ZERO_ID)) {
      const have = await presentObjects(env, [...advertisement.refs.values()]);
      const pack = startPushPack(env, updates, have);
      const packed = exitOf(pack);
      // An upstream gone mid-pack: its answer, whatever came of it, is read below.
      await pipeline(pack.stdout, this.child.stdin).catch(() => undefined);
      // A pack that could not be made whole is cut short: the upstream's unpack fails on it.
      if ((await packed) !== 0) this.child.kill();
    } else {
      this.child.stdin.end();
    }
    await this.exited;
    let report;
    try {
      report = readUpstreamReport(
        Buffer.concat(this.output),
        advertisement.capabilities.has("side-band-64k"),
      );
    } catch (error) {
      const why = `the upstream's answer could not be read (${error instanceof Error ? error.message : String(error)})`;
      return { refs: updates.map((u) => ({ ref: u.ref, error: why })), messages: [] };
    }
    const unpacked = report.unpack === "ok";
    return {
      refs: updates.map((update) => {
        if (!unpacked) return { ref: update.ref, error: `unpack failed: ${report.unpack}` };
        return (
          report.refs.find((r) => r.ref === update.ref) ?? {
            ref: update.ref,
            error: report.fatal ?? "the upstream did not report on this ref",
          }
        );
      }),
      messages: report.messages,
    };
  }

  /** Ends the session; one that sent no updates sends an empty list, and nothing changes. */
  close(): void {
    if (this.ended) return;
    if (!this.used) this.child.stdin.end(FLUSH);
    const timer = setTimeout(() => this.child.kill(), 10_000);
    timer.unref();
    void this.exited.then(() => {
      clearTimeout(timer);
    });
  }
}
