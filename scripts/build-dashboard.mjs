#!/usr/bin/env node
// Builds the dashboard page (src/dashboard/page/) into dist/dashboard/: one bundled, minified
// script (Preact included: no CDN, no external fonts, works offline), its stylesheet and
// index.html. Types are checked before this by `tsc -p src/dashboard/page/tsconfig.json`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const source = path.join(root, "src", "dashboard", "page");
const out = path.join(root, "dist", "dashboard");

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(source, "main.tsx")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  tsconfig: path.join(source, "tsconfig.json"),
  legalComments: "none",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"])
  fs.copyFileSync(path.join(source, file), path.join(out, file));
