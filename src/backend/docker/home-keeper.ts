/**
 * The secret keeper of a state home: one host process that keeps every detached bottle of the
 * home supplied with its secrets (one SecretKeeper each, see secret-keeper.ts), instead of one
 * process per bottle. Started on demand by the first start that needs it (keeper-main.ts), found
 * by later ones over its socket (`$BOT_BOTTLE_HOME/keeper.sock`, mode 0600: the secrets reach it
 * only there). At most one per home: its lock is an abstract unix socket's bind (keeper-protocol.ts),
 * which the kernel drops when the process dies, so a killed keeper leaves no stale lock and the
 * next start makes a new one. It exits once it keeps no bottle.
 *
 * Logs (the bottle's keeper.log for its hand-overs, the home's keeper.log for the process) never
 * hold a secret: a refused registration is never echoed.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { KeeperRegistration } from "./keeper-protocol.js";
import {
  MAX_REGISTRATION_BYTES,
  answerLine,
  keeperLockName,
  parseRegistration,
} from "./keeper-protocol.js";
import { SecretKeeper } from "./secret-keeper.js";

function listen(server: net.Server, where: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(false);
      else reject(error);
    });
    server.listen(where, () => {
      resolve(true);
    });
  });
}

function appendLine(file: string, line: string): void {
  try {
    fs.appendFileSync(file, `${line}\n`, { mode: 0o600 });
  } catch {
    // A bottle whose state folder is gone has nowhere to log; keeping goes on.
  }
}

export class HomeKeeper {
  private readonly kept = new Map<string, SecretKeeper>();
  private lock: net.Server | undefined;
  private server: net.Server | undefined;
  private closing = false;

  constructor(
    private readonly socketPath: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Takes the home's lock and listens on its socket; false (and nothing held) when another
   * keeper of the home holds the lock: the caller hands its bottle to that one instead.
   */
  async start(): Promise<boolean> {
    const lock = net.createServer((socket) => socket.destroy());
    // The home's real path: two spellings of one home (a symlink) share one lock.
    const home = fs.realpathSync(path.dirname(this.socketPath));
    const lockName = keeperLockName(
      path.join(home, path.basename(this.socketPath)),
      process.getuid?.() ?? 0,
    );
    if (!(await listen(lock, lockName))) return false;
    this.lock = lock;
    // Holding the lock: a socket file here is a dead keeper's.
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((socket) => {
      this.serve(socket);
    });
    const umask = process.umask(0o177);
    try {
      await listen(server, this.socketPath);
    } finally {
      process.umask(umask);
    }
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
    return true;
  }

  /** Keeps a bottle (again: a bottle kept already gets the new secrets and rules). */
  keep(registration: KeeperRegistration): void {
    const { identity } = registration;
    const keeper: SecretKeeper = new SecretKeeper(
      { controlSocket: registration.controlSocket, metadataFile: registration.metadataFile },
      registration.secrets,
      (line) => {
        appendLine(registration.logFile, line);
      },
      () => {
        if (this.kept.get(identity) !== keeper) return;
        this.kept.delete(identity);
        this.log(`${new Date().toISOString()} stopped keeping ${identity}`);
        if (this.kept.size === 0) this.close();
      },
    );
    const before = this.kept.get(identity);
    this.kept.set(identity, keeper);
    before?.stop();
    try {
      fs.writeFileSync(registration.pidFile, `${String(process.pid)}\n`, { mode: 0o600 });
    } catch {
      // The pid file is for the operator and the benches; keeping does not depend on it.
    }
    keeper.start(false);
    this.log(`${new Date().toISOString()} keeping ${identity} (${String(this.kept.size)} kept)`);
  }

  /** Identities kept now (never their secrets). */
  identities(): string[] {
    return [...this.kept.keys()];
  }

  private serve(socket: net.Socket): void {
    let line = "";
    let answered = false;
    const answer = (text: string): void => {
      answered = true;
      socket.end(text);
    };
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("error", () => undefined);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      if (answered) return;
      line += chunk;
      if (line.length > MAX_REGISTRATION_BYTES) {
        answer(answerLine({ ok: false, reason: "registration too long" }));
        return;
      }
      const end = line.indexOf("\n");
      if (end < 0) return;
      if (this.closing) {
        answer(answerLine({ ok: false, reason: "closing" }));
        return;
      }
      const registration = parseRegistration(line.slice(0, end));
      if (registration === undefined) {
        this.log(`${new Date().toISOString()} refused a malformed registration`);
        answer(answerLine({ ok: false, reason: "malformed registration" }));
        return;
      }
      this.keep(registration);
      answer(answerLine({ ok: true, pid: process.pid }));
    });
  }

  /**
   * Stops listening, then lets go of the lock: the socket file is gone (or refuses) before
   * another keeper can take the lock, so a new keeper's socket is never removed by this one.
   */
  private close(): void {
    if (this.closing) return;
    this.closing = true;
    this.log(`${new Date().toISOString()} keeps no bottle: exiting`);
    const server = this.server;
    const lock = this.lock;
    if (server === undefined) {
      lock?.close();
      return;
    }
    server.close(() => {
      lock?.close();
    });
  }
}
