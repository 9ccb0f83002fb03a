/**
 * An interactive session as a person has it, driven through tmux: start a bottle attached to the
 * terminal, see the agent program's screen, type, exit, and the bottle is gone.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/core/host/package-root.js";
import { dockerSandbox, objectsOf, shellManifest, waitFor } from "../helpers/docker.js";

const run = promisify(execFile);

async function tmux(...args: string[]): Promise<string> {
  return (await run("tmux", args)).stdout;
}

describe("interactive session", () => {
  it("attaches the terminal to the agent program and tears the bottle down on exit", async () => {
    const box = dockerSandbox(shellManifest());
    const session = `bottle-test-${process.pid}`;
    const env = Object.entries(box.env).map(([k, v]) => `${k}='${v}'`);
    const bottle = path.join(packageRoot(), "bin", "bottle.js");
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "50",
      "-c",
      box.cwd,
      "bash",
      "--norc",
      "--noprofile",
    );
    await tmux(
      "send-keys",
      "-t",
      session,
      `env ${env.join(" ")} ${process.execPath} ${bottle} start sh --yes`,
      "Enter",
    );
    try {
      // The whole scrollback: the preflight can be taller than the pane.
      const screen = () => tmux("capture-pane", "-p", "-S", "-", "-t", session);
      const identity = await waitFor(
        "the bottle's shell prompt",
        async () => {
          const text = await screen();
          return /agent@[0-9a-f]+:\/workspace\$/.test(text)
            ? (/Bottle (sh-[a-z0-9]{6})/.exec(text)?.[1] ?? "")
            : undefined;
        },
        120_000,
      );
      await tmux("send-keys", "-t", session, "echo typed-$((6*7))-inside", "Enter");
      await waitFor("the command's output", async () =>
        (await screen()).includes("typed-42-inside") ? true : undefined,
      );
      await tmux("resize-window", "-t", session, "-x", "100", "-y", "30").catch(() => "");
      await tmux("send-keys", "-t", session, "stty size", "Enter");
      await waitFor("the resized terminal", async () =>
        /^30 100$/m.test(await screen()) ? true : undefined,
      );
      await tmux("send-keys", "-t", session, "exit", "Enter");
      await waitFor(
        "the bottle to be stopped",
        async () => ((await screen()).includes("stopped") ? true : undefined),
        60_000,
      );
      assert.ok(identity.startsWith("sh-"), "the preflight named the bottle");
      assert.deepEqual(await objectsOf(identity), { containers: 0, networks: 0, volumes: 0 });
    } finally {
      await tmux("kill-session", "-t", session).catch(() => "");
    }
  });
});
