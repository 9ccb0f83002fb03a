/**
 * Peers for `bench:egress`: squid, tinyproxy and mitmproxy (mitmdump) from Debian's packages,
 * each started with a small config of its own in a temp folder, listening on 127.0.0.1. The bench
 * installs nothing: a missing program is reported as skipped with the command that installs it
 * (scripts/setup-bench.sh installs all three).
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export interface RunningPeer {
  name: string;
  port: number;
  pid: number;
  /** The CA the client must trust for this peer (mitmproxy intercepts). */
  caFile: string | null;
  stop(): void;
}

export interface SkippedPeer {
  name: string;
  skipped: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

function has(program: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, child: ChildProcess) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not start in 30 s`);
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

interface PeerRecipe {
  name: string;
  program: string;
  packageName: string;
  /** Writes its config; returns the arguments and the CA file the client needs. */
  setup(
    dir: string,
    port: number,
    upstreamCaFile: string,
  ): { args: string[]; caFile: string | null };
}

const RECIPES: PeerRecipe[] = [
  {
    name: "squid",
    program: "squid",
    packageName: "squid",
    setup: (dir, port) => {
      const conf = path.join(dir, "squid.conf");
      fs.writeFileSync(
        conf,
        [
          `http_port 127.0.0.1:${port}`,
          "http_access allow all",
          "cache deny all",
          "access_log none",
          `cache_log ${path.join(dir, "cache.log")}`,
          `pid_filename ${path.join(dir, "squid.pid")}`,
          `coredump_dir ${dir}`,
          "shutdown_lifetime 0 seconds",
          "",
        ].join("\n"),
      );
      return { args: ["-N", "-f", conf], caFile: null };
    },
  },
  {
    name: "tinyproxy",
    program: "tinyproxy",
    packageName: "tinyproxy",
    setup: (dir, port) => {
      const conf = path.join(dir, "tinyproxy.conf");
      fs.writeFileSync(
        conf,
        [
          "User nobody",
          "Group nogroup",
          `Port ${port}`,
          "Listen 127.0.0.1",
          "Timeout 600",
          "MaxClients 200",
          "Allow 127.0.0.1",
          "LogLevel Critical",
          "",
        ].join("\n"),
      );
      return { args: ["-d", "-c", conf], caFile: null };
    },
  },
  {
    name: "mitmproxy",
    program: "mitmdump",
    packageName: "mitmproxy",
    setup: (dir, port, upstreamCaFile) => ({
      args: [
        "-q",
        "--listen-host",
        "127.0.0.1",
        "-p",
        String(port),
        "--set",
        `confdir=${dir}`,
        "--set",
        `ssl_verify_upstream_trusted_ca=${upstreamCaFile}`,
        // Streams bodies past 1 MiB instead of holding each whole (its default).
        "--set",
        "stream_large_bodies=1m",
      ],
      caFile: path.join(dir, "mitmproxy-ca-cert.pem"),
    }),
  },
];

export const PEER_NAMES = RECIPES.map((r) => r.name);

export async function startPeer(
  name: string,
  baseDir: string,
  upstreamCaFile: string,
): Promise<RunningPeer | SkippedPeer> {
  const recipe = RECIPES.find((r) => r.name === name);
  if (recipe === undefined) throw new Error(`unknown peer ${name}`);
  if (!has(recipe.program)) {
    return {
      name,
      skipped: `install ${recipe.packageName} (apt-get install ${recipe.packageName}, or scripts/setup-bench.sh)`,
    };
  }
  const dir = path.join(baseDir, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const { args, caFile } = recipe.setup(dir, port, upstreamCaFile);
  const child = spawn(recipe.program, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2000);
  });
  try {
    await waitFor(
      async () => (await listening(port)) && (caFile === null || fs.existsSync(caFile)),
      name,
      child,
    );
  } catch (error) {
    child.kill("SIGKILL");
    const why = error instanceof Error ? error.message : String(error);
    return { name, skipped: `${why}: ${stderr.trim().split("\n").slice(-3).join(" / ")}` };
  }
  return {
    name,
    port,
    pid: child.pid ?? 0,
    caFile,
    stop: () => {
      child.kill("SIGKILL");
    },
  };
}
