/**
 * `npm run bench:start`: time from `bottle start --detach` to a ready bottle (images already
 * built), beside a bare `docker run --rm <agent image> true` under the same runtime, measured in
 * the same run. Prints medians over RUNS runs each and their ratio. RUNTIME=runc measures runc.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../src/core/host/package-root.js";
import { median } from "./median.js";

const run = promisify(execFile);
const RUNS = Number(process.env["RUNS"] ?? 7);
/** `auto` (runsc when the engine has it) or `runc`. */
const RUNTIME = process.env["RUNTIME"] ?? "auto";
const root = packageRoot();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-start-"));
const env = {
  ...process.env,
  BOT_BOTTLE_HOME: path.join(dir, "home"),
  BOT_BOTTLE_BASE_IMAGE: process.env["BOT_BOTTLE_BASE_IMAGE"] ?? "bot-bottle/base:bookworm",
};
fs.writeFileSync(
  path.join(dir, "bottle.yaml"),
  `agents:\n  sh: {bottle: box, provider: shell}\nbottles:\n  box:\n    runtime: ${RUNTIME}\n    egress: {allow: [allowed.test]}\n`,
);

const bottle = (...args: string[]) =>
  run(process.execPath, [path.join(root, "bin", "bottle.js"), ...args], { cwd: dir, env });

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  // Warm-up: builds the images if needed and tells us the agent image and runtime.
  const warm = (await bottle("start", "sh", "--yes", "--detach")).stdout.trim();
  const plan = JSON.parse(
    fs.readFileSync(path.join(env.BOT_BOTTLE_HOME, "state", warm, "plan.json"), "utf8"),
  ) as {
    images: { agent: { tag: string } };
    runtime: { resolved: string };
  };
  await bottle("stop", warm);
  const image = plan.images.agent.tag;
  const runtime = plan.runtime.resolved;

  const starts: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let identity = "";
    starts.push(
      await timed(async () => {
        identity = (await bottle("start", "sh", "--yes", "--detach")).stdout.trim();
      }),
    );
    await bottle("stop", identity);
    bare.push(
      await timed(() =>
        run("docker", [
          "run",
          "--rm",
          `--runtime=${runtime}`,
          "--network=none",
          "--entrypoint",
          "true",
          image,
        ]),
      ),
    );
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  console.log(`runtime ${runtime}, ${RUNS} runs each`);
  console.log(
    `bottle start --detach (to ready):  median ${ms(median(starts))}  [${starts.map(ms).join(", ")}]`,
  );
  console.log(
    `docker run --rm IMAGE true:        median ${ms(median(bare))}  [${bare.map(ms).join(", ")}]`,
  );
  console.log(`ratio start / bare run: ${(median(starts) / median(bare)).toFixed(2)}x`);
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
