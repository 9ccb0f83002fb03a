/**
 * End to end: the real Claude Code in a real bottle, in print mode, against a scripted stand-in of
 * the Messages API that runs in a container of the test's own on the bottle's network (HTTPS with
 * a test CA the sidecar is told to trust). The stand-in checks that the real token arrives, and
 * scripts a turn in which the model has the agent run a Bash tool that dumps its environment and
 * credential files and tries a host the bottle does not allow. The tool result sent back must hold
 * no real token and show the denial; the token must be nowhere in the agent container.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { pack } from "tar-stream";
import { packageRoot } from "../../src/core/host/package-root.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { LeafCertificates } from "../../src/sidecar/egress/leaf-certificates.js";
import { cliProcess } from "../helpers/cli.js";
import { BASE_IMAGE, docker, dockerSandbox, startDetached } from "../helpers/docker.js";

const TOKEN = "sk-ant-api03-REAL-TOKEN-but-FAKE-for-tests-0123456789";
const FINAL = "SCRIPTED-FINAL-ANSWER-42";
const COMMAND = "env; cat ~/.claude* ~/.npmrc 2>/dev/null; curl -s https://not-allowed.test";

const manifest = `agents:
  coder:
    bottle: box
    provider: claude
    prompt: "You are the bot-bottle end-to-end test agent."
bottles:
  box:
    resources: {memory: 2g, cpus: 1, pids: 512}
    egress:
      allow: []
    credentials:
      - {name: anthropic, path: /anthropic, upstream: "https://api.fake.test", token: {env: ANTHROPIC_API_KEY}, role: anthropic-base-url}
`;

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: { messages?: { role: string; content: unknown }[] } | null;
}

/** Output taken out of the Engine's multiplexed frames (8-byte headers). */
function demux(buffer: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

async function logsOf(id: string): Promise<string> {
  const buffer = await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false });
  return demux(buffer);
}

async function execAsRoot(container: string, command: string): Promise<string> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ["sh", "-c", command],
    User: "0",
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ Detach: false, Tty: false });
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on("end", resolve));
  return demux(Buffer.concat(chunks));
}

describe("Claude Code end to end in a bottle", () => {
  it("runs a scripted tool turn: the real token reaches the API only, and the egress denial shows", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bb-claude-e2e-"));
    const upstreamCa = await createBottleCa("e2e-upstream");
    const leaf = await new LeafCertificates(upstreamCa).issuePem("api.fake.test");
    const caFile = path.join(tmp, "upstream-ca.pem");
    fs.writeFileSync(caFile, upstreamCa.certPem);

    const box = dockerSandbox(manifest);
    box.env["BOT_BOTTLE_UPSTREAM_CA"] = caFile;
    box.env["ANTHROPIC_API_KEY"] = TOKEN;
    const identity = await startDetached(box, "coder");
    const network = `bot-bottle-${identity}-net`;
    const fake = await docker.createContainer({
      Image: BASE_IMAGE,
      Cmd: ["node", "/srv/fake.mjs"],
      Env: [
        "FAKE_API_MAIN=1",
        `FAKE_API_TOKEN=${TOKEN}`,
        `FAKE_API_COMMAND=${COMMAND}`,
        `FAKE_API_FINAL=${FINAL}`,
        `TLS_KEY=${leaf.key}`,
        `TLS_CERT=${leaf.cert}`,
      ],
      Labels: { "bot-bottle.test": "upstream" },
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: ["api.fake.test"] } } },
    });
    try {
      const archive = pack();
      archive.entry(
        { name: "fake.mjs" },
        fs.readFileSync(
          path.join(packageRoot(), "dist", "test", "support", "fake-messages-api.js"),
        ),
      );
      archive.finalize();
      await fake.putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/srv" });
      await fake.start();

      const result = await cliProcess(
        ["exec", identity, "--", "claude", "-p", "Run the check.", "--allowedTools", "Bash"],
        box,
        {},
        240_000,
      );
      const log = await logsOf(fake.id);
      assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}\n${log}`);
      assert.match(result.stdout, new RegExp(FINAL));

      const requests = log
        .split("\n")
        .filter((line) => line.includes('"method"'))
        .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as Recorded);
      const messages = requests.filter((r) => r.url.includes("/v1/messages"));
      assert.ok(messages.length >= 2, log);
      assert.ok(
        messages.every((r) => r.headers["x-api-key"] === TOKEN),
        "the real token arrived",
      );
      const withResult = messages.find((r) => JSON.stringify(r.body).includes("tool_result"));
      assert.ok(withResult, "a tool result came back");
      const toolResult = JSON.stringify(withResult.body?.messages?.at(-1));
      assert.ok(!toolResult.includes(TOKEN), "the tool result holds no real token");
      assert.match(toolResult, /ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:3129\/anthropic/);
      assert.match(toolResult, /placeholder-held-by-bot-bottle/);
      // curl's exit code 56: the proxy refused the CONNECT (the audit log below says why).
      assert.match(toolResult, /"content":"Exit code 56\\n/);
      assert.match(toolResult, /"is_error":true/);

      const egress = await cliProcess(["logs", identity, "--egress", "--json"], box);
      assert.match(egress.stdout, /"host":"not-allowed\.test".*"verdict":"deny"/);

      // The token is nowhere in the agent container: process environments, files, image history.
      const agent = `bot-bottle-${identity}-agent`;
      const environ = await execAsRoot(
        agent,
        "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'",
      );
      assert.ok(environ.includes("ANTHROPIC_BASE_URL"), "the environments were read");
      assert.ok(!environ.includes(TOKEN));
      const files = await execAsRoot(
        agent,
        `grep -rlsF '${TOKEN}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; echo searched`,
      );
      assert.equal(files.trim(), "searched");
      const info = await docker.getContainer(agent).inspect();
      const history: unknown = await docker.getImage(info.Image).history();
      assert.ok(!JSON.stringify(history).includes(TOKEN));
      assert.ok(!JSON.stringify(info.Config.Env).includes(TOKEN));
    } finally {
      await fake.remove({ force: true });
      await cliProcess(["stop", identity], box);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
