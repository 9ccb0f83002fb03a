/**
 * The proxy-alone part of `bench:egress`: a local HTTPS upstream on loopback, reached directly,
 * through this gate (passthrough, and intercept with the content checks on) and through squid,
 * tinyproxy and mitmproxy, round after round in turn (so a noisy moment hits every path alike).
 */
import fs from "node:fs";
import path from "node:path";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import type { Job, Sample } from "./client.js";
import type { Compared } from "./figures.js";
import { compare, figuresOf } from "./figures.js";
import type { RunningPeer } from "./peers.js";
import { PEER_NAMES, startPeer } from "./peers.js";
import type { Server } from "./processes.js";
import { runClient, startServer } from "./processes.js";
import { cpuMs } from "./cpu-time.js";
import { median } from "../median.js";

export interface Settings {
  rounds: number;
  bigBytes: number;
  fresh: number;
  kept: number;
}

export interface ProxyAloneResult {
  settings: Settings;
  paths: Record<string, Compared | { skipped: string }>;
}

interface PathSpec {
  name: string;
  proxy: Job["proxy"];
  caFile: string;
  /** Smaller downloads for a slow path (MiB/s is still comparable). */
  bigBytes?: number;
  /** The proxy's process, for its CPU time per MiB. */
  pid?: number;
}

/** An upstream CA and a leaf for `names` (the first also serves connections without SNI). */
export async function upstreamCertificates(dir: string, names: string[]) {
  const ca = await createBottleCa("bench-upstream");
  const caFile = path.join(dir, "upstream-ca.pem");
  fs.writeFileSync(caFile, ca.certPem);
  const leaves = new LeafCertificates(ca);
  const files = [];
  for (const name of names) {
    const leaf = await leaves.issuePem(name);
    const key = path.join(dir, `leaf-${name}.key`);
    const cert = path.join(dir, `leaf-${name}.pem`);
    fs.writeFileSync(key, leaf.key);
    fs.writeFileSync(cert, leaf.cert);
    files.push({ name, key, cert });
  }
  return { caFile, leaves: files };
}

export async function proxyAlone(
  dir: string,
  settings: Settings,
  log: (line: string) => void,
): Promise<ProxyAloneResult> {
  const certs = await upstreamCertificates(dir, ["127.0.0.1"]);
  const servers: Server[] = [];
  const peers: RunningPeer[] = [];
  const paths: ProxyAloneResult["paths"] = {};
  try {
    const upstream = await startServer("upstream.js", [
      "0",
      "127.0.0.1",
      JSON.stringify(certs.leaves),
    ]);
    servers.push(upstream);
    const target = { host: "127.0.0.1", port: upstream.port };
    const gate = async (mode: "passthrough" | "intercept") => {
      const server = await startServer("gate.js", [
        JSON.stringify({
          host: "127.0.0.1",
          port: upstream.port,
          tls: mode,
          socket: null,
          dir,
          upstreamCaFile: certs.caFile,
        }),
      ]);
      servers.push(server);
      return server;
    };
    const passthrough = await gate("passthrough");
    const intercept = await gate("intercept");
    const specs: PathSpec[] = [
      { name: "direct", proxy: null, caFile: certs.caFile },
      {
        name: "gate passthrough",
        proxy: { host: "127.0.0.1", port: passthrough.port },
        caFile: certs.caFile,
        pid: passthrough.child.pid ?? 0,
      },
      {
        name: "gate intercept",
        proxy: { host: "127.0.0.1", port: intercept.port },
        caFile: path.join(dir, "bottle-ca-intercept.pem"),
        pid: intercept.child.pid ?? 0,
      },
    ];
    const wanted = (process.env["PEERS"] ?? PEER_NAMES.join(",")).split(",");
    for (const name of PEER_NAMES.filter((n) => wanted.includes(n))) {
      const peer = await startPeer(name, dir, certs.caFile);
      if ("skipped" in peer) {
        log(`${name}: skipped: ${peer.skipped}`);
        paths[name] = { skipped: peer.skipped };
        continue;
      }
      peers.push(peer);
      specs.push({
        name,
        proxy: { host: "127.0.0.1", port: peer.port },
        caFile: peer.caFile ?? certs.caFile,
        pid: peer.pid,
        ...(name === "mitmproxy" ? { bigBytes: Math.min(settings.bigBytes, 16 << 20) } : {}),
      });
    }
    const samples = new Map<string, Sample[]>(specs.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(specs.map((s) => [s.name, []]));
    for (let round = 0; round < settings.rounds; round += 1) {
      log(`proxy alone: round ${round + 1} of ${settings.rounds}`);
      for (const spec of specs) {
        const slow = spec.name === "mitmproxy";
        const common = { proxy: spec.proxy, target, caFiles: [spec.caFile] };
        const bigBytes = spec.bigBytes ?? settings.bigBytes;
        const cpuBefore = spec.pid === undefined ? 0 : cpuMs(spec.pid);
        const big = await runClient({ ...common, bigBytes, bigRuns: 1, fresh: 0, kept: 0 });
        if (spec.pid !== undefined) {
          cpu.get(spec.name)?.push((cpuMs(spec.pid) - cpuBefore) / (bigBytes / (1 << 20)));
        }
        const small = await runClient({
          ...common,
          bigBytes,
          bigRuns: 0,
          fresh: slow ? Math.ceil(settings.fresh / 4) : settings.fresh,
          kept: slow ? Math.ceil(settings.kept / 4) : settings.kept,
        });
        samples.get(spec.name)?.push({ ...small, big: big.big });
      }
    }
    const reference = figuresOf(samples.get("direct") ?? []);
    for (const spec of specs) {
      const proxyCpu = cpu.get(spec.name) ?? [];
      paths[spec.name] = {
        ...compare(figuresOf(samples.get(spec.name) ?? []), reference),
        ...(proxyCpu.length > 0 ? { proxy_cpu_ms_per_mib: median(proxyCpu) } : {}),
      };
    }
    return { settings, paths };
  } finally {
    for (const peer of peers) peer.stop();
    for (const server of servers) server.stop();
  }
}
