/**
 * `bottle dashboard` opens the browser without the token in any process's arguments (which every
 * local user can read in /proc/<pid>/cmdline): the opener gets a file in the state home (0600)
 * that sends the browser on to the tokened address. The opener here is a stand-in `xdg-open` on
 * PATH that records its argv and what it could read; the file is then opened in a real chromium,
 * which must land on the dashboard signed in. No Docker.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { dashboardCommand } from "../../src/cli/commands/dashboard.js";
import { launchBrowser } from "../helpers/browser.js";
import { makeSandbox } from "../helpers/cli.js";

describe("bottle dashboard opens the browser", () => {
  it("through a 0600 file in the state home: no token in the opener's argv, and the page signs in", async () => {
    const box = makeSandbox();
    const bin = path.join(box.home, "bin");
    fs.mkdirSync(bin);
    const argvFile = path.join(box.home, "opener-argv");
    const opener = path.join(bin, process.platform === "darwin" ? "open" : "xdg-open");
    fs.writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}'\n`, { mode: 0o755 });
    const host = {
      env: { ...box.env, PATH: `${bin}:${process.env["PATH"] ?? ""}` },
      home: box.home,
      cwd: box.cwd,
    };
    let out = "";
    let stop = (): void => undefined;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const running = dashboardCommand(
      { port: "0", open: true, host: "127.0.0.1" },
      {
        host,
        io: { out: (t) => (out += `${t}\n`), err: () => undefined },
        confirm: undefined,
      },
      until,
    );
    const browser = await launchBrowser();
    try {
      while (!fs.existsSync(argvFile) || fs.readFileSync(argvFile, "utf8") === "")
        await new Promise((r) => setTimeout(r, 20));
      const token = new URL(out.split("\n")[0] ?? "").searchParams.get("token") ?? "";
      assert.ok(token.length >= 40);
      const argv = fs.readFileSync(argvFile, "utf8").trim().split("\n");
      assert.equal(argv.length, 1);
      const [arg = ""] = argv;
      assert.ok(!arg.includes(token), "the token is not in the opener's arguments");
      const file = arg.startsWith("file://") ? new URL(arg).pathname : arg;
      const home = box.env["BOT_BOTTLE_HOME"] ?? "";
      assert.ok(file.startsWith(`${home}${path.sep}`), `${file} is in the state home`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(file)).mode & 0o077, 0, "its folder is the operator's");
      assert.ok(fs.readFileSync(file, "utf8").includes(token), "the file carries the address");

      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await page.getByRole("navigation", { name: "Views" }).waitFor();
      assert.ok(!page.url().includes(token), "the token left the address bar");
      stop();
      await running;
      assert.equal(fs.existsSync(file), false, "the file is removed when the dashboard stops");
    } finally {
      stop();
      await browser.close();
      fs.rmSync(path.dirname(box.cwd), { recursive: true, force: true });
    }
  });
});
