/**
 * `npm run bench:dlp`: the throughput of the egress gate's content checks (DlpInspector), in MB/s,
 * on source-like text (this repository's own TypeScript files, concatenated) and on JSON API
 * bodies (generated: nested objects of ids, names, URLs and base64 digests). Each input is
 * inspected as a request body ROUNDS times; the median round is printed.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { DlpInspector } from "../src/sidecar/dlp/dlp-inspector.js";
import { median } from "./median.js";

const ROUNDS = Number(process.env["ROUNDS"] ?? "7");
const OWN = "bench-own-secret-not-real-0123456789";

/** The repository's TypeScript files, repeated up to `limit` characters; files that name a fake token on purpose left out. */
function sourceText(inspector: DlpInspector, root: string, limit: number): string {
  const parts: string[] = [];
  let size = 0;
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (size >= limit) return;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        const text = fs.readFileSync(full, "utf8");
        if (inspector.scanText(text, "bench").length > 0) continue;
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

function rate(inspector: DlpInspector, body: Buffer, type: string): number {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const start = performance.now();
    const found = inspector.inspectRequest({
      method: "POST",
      host: "api.example.test",
      path: "/v1/things",
      headers: { "content-type": type },
      body,
    });
    const ms = performance.now() - start;
    if (found.length > 0) throw new Error(`the bench input had a finding: ${found[0]?.kind}`);
    times.push(ms);
  }
  return body.length / 1e6 / (median(times) / 1000);
}

const inspector = new DlpInspector({ ownSecrets: [OWN] });
const root = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "..", "src");
const source = Buffer.from(sourceText(inspector, fs.existsSync(root) ? root : "src", 2_000_000));
const json = Buffer.from(jsonBody(2_000_000));
console.log(`source-like text: ${(source.length / 1e6).toFixed(1)} MB`);
console.log(`  ${rate(inspector, source, "text/plain").toFixed(1)} MB/s (median of ${ROUNDS})`);
console.log(`JSON API body: ${(json.length / 1e6).toFixed(1)} MB`);
console.log(`  ${rate(inspector, json, "application/json").toFixed(1)} MB/s (median of ${ROUNDS})`);
