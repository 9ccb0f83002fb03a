/**
 * A `once` rule is spent by the request it lets out, not by the decision: a request the content
 * checks refuse leaves it unspent (the agent can send the clean request it meant), and two
 * requests allowed by it at the same moment let exactly one out. A real sidecar, a local upstream;
 * fake tokens only.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { parseSavedRules } from "../../src/core/contract/saved-rules.js";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import type { Sidecar } from "../../src/sidecar/sidecar.js";
import type { LoopbackUpstream } from "../helpers/sidecar-harness.js";
import {
  loopbackRule,
  socketRequest,
  startLoopbackUpstream,
  startTestSidecar,
  testSidecarConfig,
} from "../helpers/sidecar-harness.js";

const OWN = ["fake", "once", "spend", "token", "0123456789abcdef"].join("-");
/** A provider-shaped token the detectors know (GitHub classic), obviously fake. */
const GITHUB_SHAPED = ["ghp", "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2"].join("_");

async function send(
  socketPath: string,
  method: string,
  url: string,
  body?: string,
): Promise<{ status: number; body: string; denied: string | undefined }> {
  const reply = await socketRequest(socketPath, method, url, body);
  const denied = reply.headers["x-bot-bottle-denied"];
  return { ...reply, denied: typeof denied === "string" ? denied : undefined };
}

/** Sends CONNECT and returns the status line's code; the tunnel is closed at once. */
function connect(socketPath: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const code = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (code !== null) {
        socket.destroy();
        resolve(Number(code[1]));
      }
    });
    socket.on("error", reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

function onceRule(port: number, requestId: string, tls = "intercept"): PlanEgressRule {
  return loopbackRule(port, {
    tls: tls === "passthrough" ? "passthrough" : "intercept",
    request_id: requestId,
    once: true,
  });
}

describe("spending a once rule", () => {
  let root: string;
  let sidecar: Sidecar;
  let upstream: LoopbackUpstream;
  let received = 0;
  let port: number;
  let egress: string;
  let control: string;
  const url = () => `http://127.0.0.1:${port}/upload`;
  const grant = async (requestId: string, tls = "intercept"): Promise<void> => {
    const reply = await send(
      control,
      "POST",
      "/policy/edit",
      JSON.stringify({ op: "grant", rule: onceRule(port, requestId, tls) }),
    );
    assert.equal(reply.status, 200, reply.body);
  };
  const onceRules = () =>
    parseSavedRules(
      fs.readFileSync(path.join(root, "policy.json"), "utf8"),
      "policy.json",
    ).allow.filter((r) => r.once).length;

  before(async () => {
    upstream = await startLoopbackUpstream((req, res) => {
      received += 1;
      req.resume();
      req.on("end", () => res.end("stored\n"));
    });
    port = upstream.port;
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sc-once-"));
    ({ sidecar, egress, control } = await startTestSidecar(
      testSidecarConfig("box-once", root, path.join(root, "s")),
      { api: OWN },
    ));
  });

  after(async () => {
    await sidecar.stop();
    await upstream.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("a request the content checks refuse leaves the rule unspent", async () => {
    await grant("r-00000a");
    for (const secret of [GITHUB_SHAPED, OWN]) {
      const refused = await send(egress, "POST", url(), `{"note": "${secret}"}`);
      assert.equal(refused.status, 403, refused.body);
      assert.match(refused.denied ?? "", /^dlp:/);
    }
    assert.equal(received, 0);
    assert.equal(onceRules(), 1, "policy.json still holds the once rule");
    const clean = await send(egress, "POST", url(), '{"note": "hello"}');
    assert.equal(clean.status, 200, clean.body);
    assert.equal(received, 1);
    const again = await send(egress, "POST", url(), '{"note": "hello"}');
    assert.equal(again.status, 403, "spent by the request that went out");
    assert.equal(onceRules(), 0);
  });

  it("two requests allowed by it at once: exactly one goes out", async () => {
    await grant("r-00000b");
    const before = received;
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => send(egress, "POST", url(), "x".repeat(200_000))),
    );
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
    assert.equal(received - before, 1);
  });

  it("an intercepted CONNECT does not spend it; a pass-through tunnel does", async () => {
    await grant("r-00000c");
    assert.equal(await connect(egress, `127.0.0.1:${port}`), 200);
    assert.equal(onceRules(), 1, "the tunnel's first request spends it, not the CONNECT");
    assert.equal((await send(egress, "GET", url())).status, 200);
    assert.equal(onceRules(), 0);
    await grant("r-00000d", "passthrough");
    assert.equal(await connect(egress, `127.0.0.1:${port}`), 200);
    assert.equal(onceRules(), 0);
    assert.equal(await connect(egress, `127.0.0.1:${port}`), 403);
  });
});
