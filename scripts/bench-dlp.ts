/**
 * `npm run bench:dlp`: the throughput of the egress gate's content checks (DlpInspector), in MB/s,
 * on source-like text (this repository's own TypeScript files, concatenated) and on JSON API
 * bodies (generated: nested objects of ids, names, URLs and base64 digests). Each input is
 * inspected as a request body ROUNDS times; the median round is printed. Rounds are timed in CPU
 * time of this process, not wall time: the machine is shared, and waiting for a core is not work.
 *
 * Noise: this machine is shared, so every round also times a REFERENCE on the same bytes (UTF-8
 * decoding and one regular expression of a few token prefixes, the least a content check does),
 * and prints the checks' speed as a fraction of it: that ratio moves far less with the load than
 * MB/s do. `BENCH_DLP_COMPARE=<dir>[,<dir>...]` times other builds' dlp-inspector.js
 * (`<dir>/dist/src/sidecar/dlp/dlp-inspector.js`, e.g. an older commit built elsewhere) in the
 * same rounds, interleaved, so before and after are measured under the same load.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DlpInspector } from "../src/sidecar/dlp/dlp-inspector.js";
import type { InspectedRequest } from "../src/sidecar/shared/content-inspector.js";
import { median } from "./median.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? "7");
const OWN = "bench-own-secret-not-real-0123456789";

interface Inspector {
  inspectRequest(request: InspectedRequest): { kind: string }[];
  scanText(text: string, where: string): { kind: string }[];
}

/**
 * The repository's TypeScript files, repeated up to `limit` characters; files in which any
 * contender finds something (a fake token named on purpose) left out.
 */
function sourceText(inspectors: Inspector[], root: string, limit: number): string {
  const parts: string[] = [];
  let size = 0;
  const walk = (dir: string): void => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      if (size >= limit) return;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        const text = fs.readFileSync(full, "utf8");
        if (inspectors.some((i) => i.scanText(text, "bench").length > 0)) continue;
        parts.push(text);
        size += text.length;
      }
    }
  };
  while (size < limit) walk(root);
  return parts.join("\n");
}

function jsonBody(limit: number): string {
  const items: unknown[] = [];
  let size = 0;
  for (let i = 0; size < limit; i += 1) {
    const item = {
      id: i,
      uuid: `1b4e28ba-2fa1-11d2-883f-${(1e11 + i).toString(16).padStart(12, "0")}`,
      name: `package-${i}`,
      description: "A small library that does one thing well, with tests and types.",
      url: `https://registry.example.test/package-${i}/-/package-${i}-1.0.${i}.tgz`,
      integrity: `sha512-${createHash("sha512").update(`package-${i}`).digest("base64")}`,
      tags: ["stable", "typescript", `v${i % 7}`],
      stats: { downloads: i * 31, stars: i % 1000 },
    };
    const text = JSON.stringify(item);
    size += text.length;
    items.push(item);
  }
  return JSON.stringify({ items });
}

/** The reference: the body read as text and one pass of a small prefix expression. */
const REFERENCE = /(?:AKIA|ghp_|xox[bp]-|sk-|-----BEGIN )[A-Za-z0-9_-]{10,}/g;
function reference(body: Buffer): number {
  return body.toString("utf8").match(REFERENCE)?.length ?? 0;
}

/** Milliseconds of CPU this process spent in `run` (steadier than wall time on a loaded machine). */
function timed(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const spent = process.cpuUsage(start);
  return (spent.user + spent.system) / 1000;
}

function inspect(inspector: Inspector, body: Buffer, type: string): void {
  const found = inspector.inspectRequest({
    method: "POST",
    host: "api.example.test",
    path: "/v1/things",
    headers: { "content-type": type },
    body,
  });
  if (found.length > 0) throw new Error(`the bench input had a finding: ${found[0]?.kind}`);
}

interface Contender {
  name: string;
  inspector: Inspector;
}

async function contenders(): Promise<Contender[]> {
  const list: Contender[] = [
    { name: "this build", inspector: new DlpInspector({ ownSecrets: [OWN] }) },
  ];
  for (const dir of (process.env["BENCH_DLP_COMPARE"] ?? "").split(",").filter(Boolean)) {
    const file = path.resolve(dir, "dist/src/sidecar/dlp/dlp-inspector.js");
    const module = (await import(pathToFileURL(file).href)) as {
      DlpInspector: new (options: { ownSecrets: string[] }) => Inspector;
    };
    list.push({ name: dir, inspector: new module.DlpInspector({ ownSecrets: [OWN] }) });
  }
  return list;
}

function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

async function main(): Promise<void> {
  const all = await contenders();
  const root = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", "src");
  const inputs: [string, Buffer, string][] = [
    [
      "source-like text",
      Buffer.from(
        sourceText(
          all.map((c) => c.inspector),
          fs.existsSync(root) ? root : "src",
          2_000_000,
        ),
      ),
      "text/plain",
    ],
    ["JSON API body", Buffer.from(jsonBody(2_000_000)), "application/json"],
  ];
  console.log(
    `median of ${ROUNDS} rounds of CPU time; ratio = MB/s of the checks / MB/s of the reference`,
  );
  console.log("| Input | Build | MB/s | Reference MB/s | Ratio |");
  console.log("|---|---|---|---|---|");
  for (const [label, body, type] of inputs) {
    for (const { inspector } of all) inspect(inspector, body, type); // warm up, and no finding
    const times = all.map(() => [] as number[]);
    const refs: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      refs.push(timed(() => reference(body)));
      for (const [at, { inspector }] of all.entries()) {
        times[at]?.push(
          timed(() => {
            inspect(inspector, body, type);
          }),
        );
      }
    }
    const ref = mbps(body.length, median(refs));
    for (const [at, { name }] of all.entries()) {
      const rate = mbps(body.length, median(times[at] ?? []));
      console.log(
        `| ${label} (${(body.length / 1e6).toFixed(1)} MB) | ${name} | ${rate.toFixed(1)} | ${ref.toFixed(0)} | ${(rate / ref).toFixed(3)} |`,
      );
    }
  }
}

await main();
