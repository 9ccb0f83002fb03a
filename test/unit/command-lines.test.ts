/**
 * Every command line the product tells someone to type parses against the real command tree:
 * the README's examples, each command's help examples, the advice in an egress denial and the
 * hints built by core/command-lines.ts. Parsing only: no action runs.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { commandLines, IDENTITY_SLOT } from "../../src/core/command-lines.js";
import { buildProgram } from "../../src/cli/program.js";
import { cli, makeSandbox } from "../helpers/cli.js";
import { denialText } from "../../src/sidecar/egress/denial.js";

function program(): Command {
  return buildProgram(
    {
      host: { env: {}, home: "/nonexistent", cwd: "/nonexistent" },
      io: { out: () => undefined, err: () => undefined },
      confirm: undefined,
    },
    () => undefined,
  );
}

/** Splits a shell-ish line into words; a double-quoted part is one word. */
function words(line: string): string[] {
  return [...line.trim().matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? ""),
  );
}

/** Why `argv` would not parse (unknown command or option, wrong operand count), or null. */
function parseProblem(argv: readonly string[]): string | null {
  let command = program();
  let rest = [...argv];
  for (;;) {
    const next = rest[0];
    const sub = command.commands.find((c) => c.name() === next || c.aliases().includes(next ?? ""));
    if (sub === undefined) break;
    command = sub;
    rest = rest.slice(1);
  }
  if (command.commands.length > 0 && command.registeredArguments.length === 0)
    return `"${command.name()}" needs a subcommand, got "${rest[0] ?? ""}"`;
  const { operands, unknown } = command.parseOptions(rest);
  if (unknown.length > 0) return `unknown option(s) ${unknown.join(" ")}`;
  const args = command.registeredArguments;
  const required = args.filter((a) => a.required).length;
  const max = args.some((a) => a.variadic) ? Infinity : args.length;
  if (operands.length < required || operands.length > max)
    return `${command.name()} takes ${required}..${max} operands, got ${operands.length}`;
  return null;
}

/** Optional parts written `[--flag value]` are parsed as given. */
function assertParses(line: string): void {
  const argv = words(
    line
      .replace(/^npx /, "")
      .replace(/[[\]]/g, "")
      .replace(/ [>|].*$/, ""),
  );
  assert.equal(argv[0], "bottle", line);
  assert.equal(parseProblem(argv.slice(1)), null, `${line} does not parse`);
}

describe("command lines the product prints", () => {
  it("the checker refuses what the CLI refuses (the old documented policy order)", () => {
    assert.notEqual(parseProblem(words("policy dev-1 allow api.github.com")), null);
    assert.notEqual(parseProblem(words("policy allow dev-1")), null);
    assert.notEqual(parseProblem(words("list --bogus")), null);
    assert.equal(parseProblem(words("policy allow dev-1 api.github.com --method GET")), null);
  });

  it("every README example parses", () => {
    const readme = fs.readFileSync("README.md", "utf8");
    const lines = [...readme.matchAll(/^npx (bottle [^#\n]*)/gm)].map((m) => m[1] ?? "");
    assert.ok(lines.length >= 10, `found ${lines.length} examples`);
    for (const line of lines) assertParses(line);
  });

  it("every help example parses", () => {
    const examples: string[] = [];
    const visit = (command: Command): void => {
      let help = "";
      command.configureOutput({ writeOut: (s) => (help += s), writeErr: () => undefined });
      command.outputHelp();
      for (const m of help.matchAll(/^\s+(bottle \S.*)$/gm)) examples.push(m[1] ?? "");
      command.commands.forEach(visit);
    };
    visit(program());
    assert.ok(
      examples.some((e) => e.startsWith("bottle policy allow")),
      examples.join("\n"),
    );
    for (const line of examples) assertParses(line.replace(/ &&.*$/, ""));
  });

  it("the advice in a denial parses, and so do the built lines", () => {
    const text = denialText("GET http://evil.test/", "evil.test", {
      verdict: "deny",
      rule: "default-deny",
      reason: "no rule allows evil.test",
    });
    const line = /`(bottle [^`]+)`/.exec(text)?.[1];
    assert.ok(line !== undefined, text);
    assertParses(line.replace(IDENTITY_SLOT, "dev-1"));
    assertParses(commandLines.policyList("dev-1"));
    assertParses(commandLines.policyAllow("dev-1", "a.test", { internal: true, methods: ["GET"] }));
    assertParses(commandLines.list());
    assertParses(commandLines.start("dev", { yes: true, detach: true }));
    assertParses(commandLines.start("dev"));
    assertParses(commandLines.pool());
    assertParses(commandLines.pool("dev"));
    assertParses(commandLines.pool("dev", 0));
    assertParses(commandLines.attach("dev-1"));
    assertParses(commandLines.stop("dev-1"));
  });

  it("the commands the preflight names parse (supervise on and off)", async () => {
    for (const supervise of [true, false]) {
      const box = makeSandbox();
      assert.equal((await cli(["init"], box)).code, 0);
      const file = path.join(box.cwd, "bottle.yaml");
      fs.writeFileSync(
        file,
        fs.readFileSync(file, "utf8").replace("supervise: true", `supervise: ${supervise}`),
      );
      const run = await cli(["start", "shell", "--dry-run"], box);
      const lines = [...run.stdout.matchAll(/`(bottle [^`]+)`/g)].map((m) => m[1] ?? "");
      assert.ok(lines.length >= (supervise ? 3 : 1), run.stdout);
      for (const line of lines)
        assertParses(line.replace("<id>", "r-1a2b3c").replace("<host>", "a.test"));
    }
  });

  it("the supervise lines parse, and the checker refuses a bad one", () => {
    assertParses(commandLines.requests());
    assertParses(commandLines.requests({ identity: "dev-1", all: true, watch: true }));
    assertParses(commandLines.approve("r-1a2b3c"));
    assertParses(commandLines.approve("r-1a2b3c", { scope: "once", internal: true, yes: true }));
    assertParses(commandLines.approve("dev-1/r-1a2b3c", { scope: "bottle" }));
    assertParses(
      commandLines.approve("r-1a2b3c", {
        scope: "for",
        duration: "2s",
        methods: ["GET", "HEAD"],
        paths: ["/v1/", "/simple/"],
      }),
    );
    assertParses(commandLines.deny("r-1a2b3c"));
    assertParses(commandLines.deny("r-1a2b3c", 'use the "mirror" at $HOME'));
    assert.deepEqual(words(commandLines.deny("r-1", 'a "b" $c')), [
      "bottle",
      "deny",
      "r-1",
      "--reason",
      'a "b" $c',
    ]);
    assertParses(commandLines.policyRemoveRequest("dev-1", "r-1a2b3c"));
    assert.notEqual(parseProblem(words("approve r-1 --scope once")), null);
    assert.notEqual(parseProblem(words("deny r-1 use the mirror")), null);
    for (const help of ["requests", "approve", "deny"]) {
      let text = "";
      const command = program().commands.find((c) => c.name() === help);
      assert.ok(command !== undefined, help);
      command.configureOutput({ writeOut: (t) => (text += t), writeErr: () => undefined });
      command.outputHelp();
      assert.match(text, /Examples:\n {2}bottle /, help);
    }
  });
});
