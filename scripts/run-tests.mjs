#!/usr/bin/env node
// Runs the compiled test suites with node's test runner and ends with one line:
// "N passed, N failed" (and skipped). Usage: node scripts/run-tests.mjs unit [integration]
// Integration tests share one Docker engine, so their files run one at a time.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const suites = process.argv.slice(2);
if (suites.length === 0) suites.push("unit");
const totals = { pass: 0, fail: 0, skipped: 0 };
let exitCode = 0;

for (const suite of suites) {
  const dir = path.join("dist", "test", suite);
  if (!fs.existsSync(dir)) {
    console.error(`no compiled tests in ${dir}; run npm run build`);
    process.exit(1);
  }
  const tap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bottle-tests-")), "results.tap");
  const args = [
    "--test",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
  ];
  if (suite === "integration") args.push("--test-concurrency=1");
  args.push(dir);
  const code = await new Promise((resolve) => {
    spawn(process.execPath, args, { stdio: "inherit" }).on("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) exitCode = 1;
  const text = fs.readFileSync(tap, "utf8");
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  totals.pass += count("pass");
  totals.fail += count("fail");
  totals.skipped += count("skipped");
}

console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(totals.fail > 0 ? 1 : exitCode);
