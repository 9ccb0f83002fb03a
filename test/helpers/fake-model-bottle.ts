/**
 * A real agent bottle whose model API is the scripted stand-in (fake-model.ts): a temp folder
 * with a fresh test CA the sidecar is told to trust, the bottle of `manifest`'s `coder` started
 * detached, and the stand-in on its network. For the tests of the real Claude Code and Codex.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Sandbox } from "./cli.js";
import { cliProcess } from "./cli.js";
import { dockerSandbox, startDetached } from "./docker.js";
import type { FakeModel, FakeModelScript } from "./fake-model.js";
import { fakeModelCa, startFakeModel } from "./fake-model.js";

export interface FakeModelBottleOptions {
  /** The temp folder's name prefix (the test's name). */
  tmpPrefix: string;
  /** Host variables for the start: the model key (ANTHROPIC_API_KEY, OPENAI_API_KEY). */
  env?: Record<string, string>;
  /** More of the host's set-up before the start (files, variables). */
  setup?: (box: Sandbox, tmp: string) => void;
  script: FakeModelScript;
  api?: "messages" | "responses";
}

export interface FakeModelBottle {
  tmp: string;
  box: Sandbox;
  identity: string;
  /** The bottle's network, where the stand-in answers as api.fake.test. */
  network: string;
  /** The stand-in started with the bottle. */
  fake: FakeModel;
  /** Starts the stand-in again (a resumed bottle has a new network). */
  startFake(): Promise<FakeModel>;
  /** Stops the bottle and removes the temp folder (the stand-in is the test's to remove). */
  stop(): Promise<void>;
}

export async function startFakeModelBottle(
  manifest: string,
  options: FakeModelBottleOptions,
): Promise<FakeModelBottle> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix));
  const tls = await fakeModelCa(tmp);
  const box = dockerSandbox(manifest);
  box.env["BOT_BOTTLE_UPSTREAM_CA"] = tls.caFile;
  Object.assign(box.env, options.env ?? {});
  options.setup?.(box, tmp);
  const identity = await startDetached(box, "coder");
  const network = `bot-bottle-${identity}-net`;
  const startFake = () => startFakeModel(network, tls, options.script, options.api);
  return {
    tmp,
    box,
    identity,
    network,
    fake: await startFake(),
    startFake,
    stop: async () => {
      await cliProcess(["stop", identity], box);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
