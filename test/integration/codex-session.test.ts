/**
 * Codex sessions in a bottle, as a person has them: attached through tmux, the real Codex CLI
 * reaches its prompt with no trust or sign-in screen, and a turn typed there reaches the
 * Responses API stand-in; after `stop` and `resume` (attached: `codex resume --last`), the
 * transcript saved with the agent's home carries the earlier turn, which the stand-in receives
 * again with the next one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliProcess } from "../helpers/cli.js";
import { docker, execAs, waitFor } from "../helpers/docker.js";
import type { FakeModel } from "../helpers/fake-model.js";
import { startFakeModelBottle } from "../helpers/fake-model-bottle.js";
import { bottleInTmux, tmux } from "../helpers/tmux.js";
const TOKEN = "sk-proj-SESSION-KEY-FAKE-0123456789abcdef";
const FIRST = "Remember the word PERIWINKLE-8.";
const SECOND = "What was the word?";
/** Codex's empty input line. */
const PROMPT = /Ask Codex to do anything/;

const manifest = `agents:
  coder:
    bottle: box
    provider: codex
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    credentials:
      - {name: openai, path: /openai, upstream: "https://api.fake.test/v1", token: {env: OPENAI_API_KEY}, role: openai-base-url}
`;

const screen = (session: string): Promise<string> =>
  tmux("capture-pane", "-p", "-S", "-", "-t", session);

/** Types a line into Codex once its prompt shows, and waits until the stand-in has answered it. */
async function say(session: string, fake: FakeModel, text: string): Promise<void> {
  await waitFor(
    "Codex's prompt",
    async () => (PROMPT.test(await screen(session)) ? true : undefined),
    120_000,
  );
  await tmux("send-keys", "-t", session, "-l", text);
  // The composer shows the text before Enter submits it.
  await waitFor("the typed line", async () =>
    (await screen(session)).includes(text) ? true : undefined,
  );
  await tmux("send-keys", "-t", session, "Enter");
  await waitFor(
    "the stand-in to receive the turn",
    async () =>
      (await fake.requests()).some((r) => JSON.stringify(r.body).includes(text)) ? true : undefined,
    120_000,
  );
}

describe("Codex sessions in a bottle", () => {
  it("reaches the prompt with no trust screen, and resume continues the conversation", async () => {
    const bottle = await startFakeModelBottle(manifest, {
      tmpPrefix: "bb-codex-session-",
      env: { OPENAI_API_KEY: TOKEN },
      script: { token: TOKEN, command: "", final: "noted" },
      api: "responses",
    });
    const { box, identity } = bottle;
    let fake = bottle.fake;
    const session = `bottle-codex-${process.pid}`;
    try {
      // Interactive: attach in tmux, read the screen, have a first turn.
      await bottleInTmux(session, box, `attach ${identity}`);
      const first = await waitFor(
        "Codex's prompt",
        async () => {
          const text = await screen(session);
          return PROMPT.test(text) || /trust|sign in/i.test(text) ? text : undefined;
        },
        120_000,
      );
      assert.doesNotMatch(first, /trust the|sign in/i);
      await say(session, fake, FIRST);
      const agent = `bot-bottle-${identity}-agent`;
      const processes = await execAs(agent, "1500", "ps -eo args");
      assert.doesNotMatch(processes, /app-server/, "no background server runs in the bottle");
      // The interactive CLI itself asked the egress gate for nothing but its startup tip, which
      // it fetches whatever its settings say (no updates, plugins, analytics or sign-in).
      const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
      const asked = egress.stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { host?: string; verdict?: string });
      assert.ok(
        asked.every((e) => e.host === "raw.githubusercontent.com" && e.verdict === "deny"),
        egress.stdout,
      );
      await tmux("kill-session", "-t", session).catch(() => "");

      // Stop (the home, with ~/.codex/sessions, is saved), resume attached (`codex resume --last`).
      assert.equal((await cliProcess(["stop", identity], box)).code, 0);
      await fake.remove();
      await bottleInTmux(session, box, `resume ${identity}`);
      // The stand-in joins the new network once the resumed bottle has made it.
      await waitFor(
        "the resumed bottle's network",
        async () =>
          docker
            .getNetwork(bottle.network)
            .inspect()
            .then(() => true)
            .catch(() => undefined),
        180_000,
      );
      fake = await bottle.startFake();
      await waitFor(
        "the earlier turn on the resumed screen",
        async () => ((await screen(session)).includes(FIRST) ? true : undefined),
        120_000,
      );
      await say(session, fake, SECOND);
      const continued = (await fake.requests()).find(
        (r) =>
          r.url.endsWith("/responses") &&
          JSON.stringify(r.body).includes("PERIWINKLE-8") &&
          JSON.stringify(r.body).includes(SECOND),
      );
      assert.ok(continued, "the stand-in received the earlier turn with the new one");
    } finally {
      await tmux("kill-session", "-t", session).catch(() => "");
      await fake.remove().catch(() => undefined);
      await bottle.stop();
    }
  });
});
