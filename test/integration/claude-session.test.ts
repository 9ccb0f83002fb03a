/**
 * Claude Code sessions in a bottle, as a person has them: attached through tmux, the real Claude
 * Code reaches its prompt with no trust dialog; after `stop` and `resume`, `claude --continue`
 * carries the earlier conversation, which the Messages API stand-in receives again, and so does
 * `bottle attach` (an image-change restart is the same stop and resume).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { waitFor } from "../helpers/docker.js";
import type { FakeModel } from "../helpers/fake-model.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";
import { bottleInTmux, tmux } from "../helpers/tmux.js";
const TOKEN = "sk-ant-api03-SESSION-TOKEN-FAKE-0123456789abcdef";
const FIRST_PROMPT = "Remember the word PERIWINKLE-7.";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
`;

/** Whether the stand-in received a Messages request holding every text (its log may be mid-line). */
async function received(fake: FakeModel, ...texts: string[]): Promise<true | undefined> {
  try {
    const hit = (await fake.requests()).some((r) => {
      const body = JSON.stringify(r.body);
      return r.url.includes("/v1/messages") && texts.every((t) => body.includes(t));
    });
    return hit || undefined;
  } catch {
    return undefined; // a request being written: look again
  }
}

describe("Claude Code sessions in a bottle", () => {
  it("reaches the prompt with no trust dialog, and resume continues the conversation", async () => {
    const bottle = await startFakeModelBottle(manifest, {
      tmpPrefix: "bb-claude-session-",
      env: { ANTHROPIC_API_KEY: TOKEN },
      script: { token: TOKEN, command: "true", final: "noted" },
    });
    const { box, identity } = bottle;
    let fake: FakeModel = bottle.fake;
    const session = `bottle-claude-${process.pid}`;
    try {
      // Interactive: attach in tmux and read the screen.
      await bottleInTmux(session, box, `attach ${identity}`);
      const screen = await waitFor(
        "Claude Code's prompt",
        async () => {
          const text = await tmux("capture-pane", "-p", "-t", session);
          // The input line of Claude Code's prompt; a trust dialog would come before it.
          return /^❯/m.test(text) || /Do you trust/i.test(text) ? text : undefined;
        },
        90_000,
      );
      assert.doesNotMatch(screen, /Do you trust/i);
      // A first conversation, typed there (interactive --continue takes only such ones).
      await tmux("send-keys", "-t", session, "-l", FIRST_PROMPT);
      await new Promise((r) => setTimeout(r, 500));
      await tmux("send-keys", "-t", session, "Enter");
      await waitFor(
        "the first prompt at the stand-in",
        () => received(fake, FIRST_PROMPT),
        120_000,
      );
      await new Promise((r) => setTimeout(r, 3000)); // the answer lands in the transcript
      await tmux("send-keys", "-t", session, "C-c");
      await tmux("send-keys", "-t", session, "C-c");
      await new Promise((r) => setTimeout(r, 1000));
      await tmux("kill-session", "-t", session).catch(() => "");

      // Stop, resume (a new network: the stand-in starts again), continue.
      assert.equal((await cliProcess(["stop", identity], box)).code, 0);
      await fake.remove();
      const resumed = await cliProcess(["resume", identity, "--detach"], box, {}, 180_000);
      assert.equal(resumed.code, 0, resumed.stderr);
      fake = await bottle.startFake();
      const next = await cliProcess(
        ["exec", identity, "--", "claude", "-p", "--continue", "What was the word?"],
        box,
        {},
        180_000,
      );
      assert.equal(next.code, 0, next.stderr);
      const requests = await fake.requests();
      const continued = requests.find(
        (r) =>
          r.url.includes("/v1/messages") &&
          JSON.stringify(r.body).includes("PERIWINKLE-7") &&
          JSON.stringify(r.body).includes("What was the word?"),
      );
      assert.ok(continued, "the stand-in received the earlier turn with the new one");

      // `bottle attach` after the resume continues the conversation too (it used to start a
      // new one: the agent had forgotten everything said before the stop).
      const ATTACH_PROMPT = "Attached again: say the word.";
      await bottleInTmux(session, box, `attach ${identity}`);
      let seenScreen = "";
      const attached = await waitFor(
        "Claude Code's prompt after attach",
        async () => {
          seenScreen = await tmux("capture-pane", "-p", "-S", "-", "-t", session);
          return /^❯/m.test(seenScreen) ? seenScreen : undefined;
        },
        120_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}; the screen:\n${seenScreen}`);
      });
      assert.match(attached, /PERIWINKLE-7/, "the earlier conversation is on the screen");
      await tmux("send-keys", "-t", session, "-l", ATTACH_PROMPT);
      await new Promise((r) => setTimeout(r, 500));
      await tmux("send-keys", "-t", session, "Enter");
      await waitFor(
        "the attached session's turn with the earlier ones",
        () => received(fake, ATTACH_PROMPT, "PERIWINKLE-7"),
        120_000,
      );
    } finally {
      await tmux("kill-session", "-t", session).catch(() => "");
      await fake.remove().catch(() => undefined);
      await bottle.stop();
    }
  });
});
