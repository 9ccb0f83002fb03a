/**
 * A push to an SSH upstream through a receive-pack session of the gate's own
 * (send-pack-protocol.ts), opened as soon as a push arrives: ssh's session and the upstream's ref
 * advertisement then cost nothing while the push is read and judged. Nothing of the push is sent
 * before its verdict; a refused push closes the session with an empty command list, and the
 * upstream changes nothing. An accepted push sends the ref updates and the quarantine's pack as it
 * is: no second pack is made.
 *
 * `push` answers null, having sent nothing, when this way cannot be used (the session failed or
 * ended, or the upstream lacks a capability): the caller then pushes with git (upstream-push.ts),
 * which also gives git's own words for a failure.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
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
  unsupportedBy,
} from "./send-pack-protocol.js";
import type { UpstreamPushResult } from "./upstream-push.js";

/** A pack of no objects: what receive-pack reads when updates need none it lacks. */
function emptyPack(): Buffer {
  const head = Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 0]);
  return Buffer.concat([head, crypto.createHash("sha1").update(head).digest()]);
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
   * Sends the updates and the quarantine's pack, and reads what the upstream did with each ref;
   * null (nothing sent) when this session cannot take the push.
   */
  async push(
    updates: readonly RefUpdate[],
    quarantineDir: string,
  ): Promise<UpstreamPushResult | null> {
    const advertisement = await this.advertised;
    if (advertisement === null || this.ended || unsupportedBy(advertisement, updates) !== null) {
      return null;
    }
    this.used = true;
    this.child.stdin.write(pushCommands(updates, advertisement));
    if (updates.some((update) => update.new !== ZERO_ID)) {
      const packs = path.join(quarantineDir, "pack");
      const pack = fs.readdirSync(packs).find((file) => file.endsWith(".pack"));
      if (pack === undefined) this.child.stdin.end(emptyPack());
      else {
        // An upstream gone mid-pack: its answer, whatever came of it, is read below.
        await pipeline(fs.createReadStream(path.join(packs, pack)), this.child.stdin).catch(
          () => undefined,
        );
      }
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
