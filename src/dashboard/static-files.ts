/**
 * The page's files, built by `npm run build` into dist/dashboard/ (scripts/build-dashboard.mjs)
 * and shipped in the package. Only the files the build writes are served, by exact name.
 */
import fs from "node:fs";
import path from "node:path";
import { packageRoot } from "../core/host/package-root.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

export function pageDir(): string {
  return path.join(packageRoot(), "dist", "dashboard");
}

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The file for a URL path ("/" is index.html), or undefined. Never leaves the page folder. */
export function staticFile(dir: string, urlPath: string): StaticFile | undefined {
  const name = urlPath === "/" ? "index.html" : urlPath.slice(1);
  if (!/^[a-z0-9-]+\.(html|js|css|svg)$/.test(name)) return undefined;
  const type = TYPES[path.extname(name)];
  try {
    return type === undefined ? undefined : { type, body: fs.readFileSync(path.join(dir, name)) };
  } catch {
    return undefined;
  }
}
