/**
 * Opens the dashboard in the operator's browser with `xdg-open` (or `open` on macOS) when one is
 * on PATH. Never fails: without a browser, the printed address is enough.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Returns whether an opener was started (not whether a browser showed the page). */
export function openBrowser(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const opener = onPath(process.platform === "darwin" ? "open" : "xdg-open", env["PATH"]);
  if (opener === undefined) return false;
  try {
    const child = spawn(opener, [url], { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}
