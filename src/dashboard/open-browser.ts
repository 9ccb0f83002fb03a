/**
 * Opens the dashboard in the operator's browser with `xdg-open` (or `open` on macOS) when one is
 * on PATH. Never fails: without a browser, the printed address is enough.
 *
 * The token never goes into the opener's arguments: any local user can read a process's argv
 * (/proc/<pid>/cmdline, `ps`). The opener gets a file instead, `dashboard/open-<random>.html` in
 * the state home (folder 0700, file 0600: the operator's only), which sends the browser on to the
 * tokened address; the dashboard exchanges the token for its session cookie and drops it from the
 * address (auth.ts). The file is removed when the dashboard stops.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

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

function attribute(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

/** The page that sends the browser on to `url` (no script: a refresh, and a link to click). */
export function redirectPage(url: string): string {
  const href = attribute(url);
  return [
    "<!doctype html>",
    '<meta charset="utf-8">',
    '<meta name="referrer" content="no-referrer">',
    `<meta http-equiv="refresh" content="0;url=${href}">`,
    "<title>bot-bottle dashboard</title>",
    `<p><a href="${href}">Open the bot-bottle dashboard</a></p>`,
    "",
  ].join("\n");
}

/**
 * Writes the redirect file for `url` in `<stateHome>/dashboard/` (created 0700; an existing one
 * is set to 0700), mode 0600, under a fresh random name. Returns its path.
 */
export function writeOpenFile(url: string, stateHome: string): string {
  const dir = path.join(stateHome, "dashboard");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, `open-${crypto.randomBytes(8).toString("hex")}.html`);
  fs.writeFileSync(file, redirectPage(url), { mode: 0o600, flag: "wx" });
  return file;
}

export interface OpenedBrowser {
  /** Whether an opener was started (not whether a browser showed the page). */
  opened: boolean;
  /** Removes the redirect file (it holds the token); safe to call more than once. */
  cleanup(): void;
}

/** Starts the opener on a redirect file to `url` (see above). */
export function openBrowser(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  stateHome: string,
): OpenedBrowser {
  const opener = onPath(process.platform === "darwin" ? "open" : "xdg-open", env["PATH"]);
  if (opener === undefined) return { opened: false, cleanup: () => undefined };
  let file: string | undefined;
  const cleanup = (): void => {
    if (file !== undefined) fs.rmSync(file, { force: true });
  };
  try {
    file = writeOpenFile(url, stateHome);
    const child = spawn(opener, [pathToFileURL(file).href], { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
    return { opened: true, cleanup };
  } catch {
    cleanup();
    return { opened: false, cleanup };
  }
}
