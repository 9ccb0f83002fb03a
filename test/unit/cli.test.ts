import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cli, cliProcess, makeSandbox, writeManifest } from "../helpers/cli.js";
import type { Sandbox } from "../helpers/cli.js";

const COMMANDS = ["init", "manifest", "start", "doctor"];

function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("bottle --help", () => {
  it("lists every command with a one-line description", async () => {
    const result = await cli(["--help"], makeSandbox());
    assert.equal(result.code, 0);
    for (const command of COMMANDS)
      assert.match(result.stdout, new RegExp(`^  ${command}\\b.*\\S{8,}`, "m"));
  });

  for (const command of [...COMMANDS, "manifest validate", "manifest schema"]) {
    it(`${command} --help explains the command`, async () => {
      const result = await cli([...command.split(" "), "--help"], makeSandbox());
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`Usage: bottle ${command}`));
    });
  }

  it("answers an unknown command with exit code 2", async () => {
    const result = await cliProcess(["strat"], makeSandbox());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown command 'strat'/);
  });
});

describe("init, validate, dry run", () => {
  it("goes from an empty directory to a JSON plan", async () => {
    const box = makeSandbox();
    assert.equal((await cli(["init"], box)).code, 0);
    const validate = await cli(["manifest", "validate"], box);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /valid/);
    const run = await cli(["start", "implementer", "--dry-run", "--format", "json"], box);
    assert.equal(run.code, 0, run.stderr);
    const plan = JSON.parse(run.stdout) as Record<string, unknown>;
    for (const key of [
      "identity",
      "agent",
      "provider",
      "runtime",
      "images",
      "egress",
      "credentials",
      "git",
    ]) {
      assert.ok(key in plan, `plan has ${key}`);
    }
    assert.equal(plan["agent"], "implementer");
    assert.equal(plan["provider"], "claude");
  });

  it("gives each dry run a new identity", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const identities = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const run = await cli(["start", "shell", "--dry-run", "--format", "json"], box);
      identities.add((JSON.parse(run.stdout) as { identity: string }).identity);
    }
    assert.equal(identities.size, 2);
    for (const id of identities) assert.match(id, /^shell-[a-z0-9]{6}$/);
  });

  it("prints a preflight summary as text by default, without token values", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const fakeToken = "sk-ant-api03-FAKE-TOKEN-FOR-TESTS";
    const run = await cli(["start", "implementer", "--dry-run"], box, {
      ANTHROPIC_API_KEY: fakeToken,
      USER: "tester-FAKE-USER",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Bottle implementer-[a-z0-9]{6}$/m);
    assert.match(run.stdout, /token from \$ANTHROPIC_API_KEY/);
    assert.match(run.stdout, /GIT_AUTHOR_NAME <- host \$USER/);
    // The preflight's supervise line names the commands that decide (each parses: command-lines).
    assert.match(
      run.stdout,
      /supervise: on: the agent can ask for more \(MCP tools at 127\.0\.0\.1:3131\/mcp\); you decide: `bottle requests --watch`, then `bottle approve <id>` or `bottle deny <id>`/,
    );
    assert.ok(!run.stdout.includes(fakeToken) && !run.stdout.includes("FAKE-USER"));
  });

  it("refuses to overwrite a manifest without --force", async () => {
    const box = makeSandbox();
    const file = writeManifest(box, "# mine\n");
    const result = await cli(["init"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--force/);
    assert.equal(fs.readFileSync(file, "utf8"), "# mine\n");
    assert.equal((await cli(["init", "--force"], box)).code, 0);
    assert.notEqual(fs.readFileSync(file, "utf8"), "# mine\n");
  });

  it("finds the manifest in $BOT_BOTTLE_HOME when the directory has none", async () => {
    const box = makeSandbox();
    const home = box.env["BOT_BOTTLE_HOME"] ?? "";
    fs.mkdirSync(home, { recursive: true });
    await cli(["init", "--file", path.join(home, "bottle.yaml")], box);
    const result = await cli(["manifest", "validate"], box);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.includes(path.join(home, "bottle.yaml")));
  });

  it("names the agents when the one asked for does not exist", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const result = await cli(["start", "implementor", "--dry-run"], box);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /did you mean "implementer"/i);
  });
});

describe("start --dry-run has no side effects", () => {
  let box: Sandbox;
  let server: net.Server;
  let connections = 0;
  let socket: string;

  before(async () => {
    box = makeSandbox();
    await cli(["init"], box);
    socket = path.join(path.dirname(box.cwd), "fake-docker.sock");
    server = net.createServer((conn) => {
      connections++;
      conn.destroy();
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });

  after(() => {
    server.close();
  });

  it("makes no engine call and writes no file", async () => {
    const before = [...listTree(box.cwd), "|", ...listTree(box.home)];
    const result = await cliProcess(
      ["start", "implementer", "--dry-run", "--format", "json"],
      box,
      { DOCKER_HOST: `unix://${socket}` },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(connections, 0, "the engine socket was contacted");
    assert.deepEqual([...listTree(box.cwd), "|", ...listTree(box.home)], before);
  });

  it("(control) the recording engine socket does see a command that calls the engine", async () => {
    await cliProcess(["doctor"], box, { DOCKER_HOST: `unix://${socket}` });
    assert.ok(connections > 0);
  });
});

describe("examples/bottle.yaml", () => {
  it("is the starter manifest that `bottle init` writes", async () => {
    const { STARTER_MANIFEST } = await import("../../src/core/manifest/starter.js");
    const { packageRoot } = await import("../../src/core/host/package-root.js");
    const example = fs.readFileSync(path.join(packageRoot(), "examples", "bottle.yaml"), "utf8");
    assert.equal(example, STARTER_MANIFEST);
  });
});

describe("start without a model token", () => {
  it("says how to provide one and starts nothing", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const result = await cli(["start", "implementer", "--yes"], box, {
      DOCKER_HOST: "unix:///nonexistent.sock",
    });
    // No engine answers here, so the token check must come first to be seen at all.
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /needs a model token, but \$ANTHROPIC_API_KEY is not set/);
    assert.match(result.stderr, /claude setup-token/);
  });

  it("says the same from the bundled CLI (a separate process)", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const env = { DOCKER_HOST: "unix:///nonexistent.sock" };
    const result = await cliProcess(["start", "implementer", "-y", "--detach"], box, env);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^error: implementer needs a model token, but \$ANTHROPIC_API_KEY/);
    assert.match(result.stderr, /\nhint: .*claude setup-token/);
    // An unknown option is refused by the command line.
    const unknown = await cliProcess(["start", "implementer", "--bogus"], box, env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--bogus'/);
  });

  it("names OpenAI's variable for a Codex agent, and starts nothing", async () => {
    const box = makeSandbox();
    await cli(["init"], box);
    const result = await cli(["start", "coder", "--yes"], box, {
      DOCKER_HOST: "unix:///nonexistent.sock",
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /coder needs a model token, but \$OPENAI_API_KEY is not set/);
    assert.match(result.stderr, /Export an OpenAI API key/);
    assert.match(result.stderr, /role: openai-base-url/);
  });
});
