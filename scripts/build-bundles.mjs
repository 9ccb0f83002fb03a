#!/usr/bin/env node
// Bundles the compiled programs (dist/src, from tsc) with their dependencies, so node reads and
// compiles a few files instead of resolving hundreds of modules at every start:
//
// - dist/cli/: `bottle` (bin/bottle.js loads dist/cli/bottle.js) and the detached secret keeper
//   it spawns (keeper-main.js, next to it: keeper-spawn.ts finds it beside its own chunk), and
//   a warm pool's detached refill (pool-refill-main.js, found the same way by pooled-start.ts).
//   Modules the CLI imports lazily (the Docker backend, the dashboard, ...) stay in their own
//   chunks, loaded when a command needs them.
// - dist/sidecar/: the sidecar (main.js) and its DLP scan worker (scan-worker.js, beside it),
//   which the sidecar image runs: it holds no node_modules.
//
// Run by `npm run build` after tsc. Unminified, so stack traces stay readable.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "dist", "src");

// CommonJS dependencies call require() for node's own modules: give the ES module bundle one.
const banner = {
  js: 'import { createRequire as __bbCreateRequire } from "node:module";\nconst require = __bbCreateRequire(import.meta.url);',
};

async function bundle(out, entryPoints) {
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    banner,
    chunkNames: "[name]-[hash]",
    legalComments: "none",
    logLevel: "warning",
  });
}

await bundle(path.join(root, "dist", "cli"), {
  bottle: path.join(src, "cli", "main.js"),
  "keeper-main": path.join(src, "backend", "docker", "keeper-main.js"),
  "pool-refill-main": path.join(src, "cli", "pool-refill-main.js"),
});
await bundle(path.join(root, "dist", "sidecar"), {
  main: path.join(src, "sidecar", "main.js"),
  "scan-worker": path.join(src, "sidecar", "dlp", "scan-worker.js"),
});
