/**
 * A real browser for dashboard tests: Debian's chromium driven by playwright-core, headless,
 * with background networking off and a fresh profile. `npx playwright install` cannot download
 * browsers here; scripts/setup-host.sh installs the `chromium` package.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext } from "playwright-core";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env["BOT_BOTTLE_CHROMIUM"] ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<BrowserContext> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 820 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Where screenshots go when DASHBOARD_SCREENSHOTS names a folder (docs/ in this repository). */
export function screenshotPath(name: string): string | undefined {
  const dir = process.env["DASHBOARD_SCREENSHOTS"];
  return dir === undefined || dir === "" ? undefined : path.join(dir, `dashboard-${name}.png`);
}
