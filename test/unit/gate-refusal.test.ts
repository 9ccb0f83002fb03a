// A gate refusing while the sidecar waits for its secrets: the agent's request must get the 503,
// even when it is still being sent as the refusal goes out (as a relay forwards it). Seen: after
// a sidecar restart, curl through the relay got no answer at all (000) in most tries, because the
// gate closed at once and the relay's write of the request failed, so it cut its client.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { REFUSED_LINGER_MS, listenGate } from "../../src/sidecar/shared/gate-listen.js";

async function refusingGate(): Promise<{ socket: string; server: http.Server }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-refusal-"));
  const socket = path.join(dir, "egress.sock");
  const server = http.createServer((_req, res) => res.end("served"));
  await listenGate(server, { path: socket, guard: { refusal: () => "waiting for secrets" } });
  return { socket, server };
}

describe("a refusing gate", () => {
  it("takes a request still being sent after its 503, and ends the connection cleanly", async () => {
    const { socket, server } = await refusingGate();
    try {
      const outcome = await new Promise<{ answer: string; error: string | undefined }>(
        (resolve) => {
          const client = net.connect(socket);
          let answer = "";
          let error: string | undefined;
          client.on("data", (chunk: Buffer) => {
            answer += chunk.toString("utf8");
            // The refusal is here: now the rest of the request, as a relay would forward it.
            if (answer.includes("waiting for secrets")) {
              client.write(`POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 70000\r\n\r\n`);
              client.write("x".repeat(70_000), () => client.end());
            }
          });
          client.on("error", (e: NodeJS.ErrnoException) => {
            error = e.code ?? e.message;
          });
          client.on("close", () => {
            resolve({ answer, error });
          });
        },
      );
      assert.match(outcome.answer, /^HTTP\/1\.1 503 [^]*waiting for secrets\n$/);
      assert.equal(outcome.error, undefined, "the request's bytes were refused with an error");
      assert.equal(outcome.answer.includes("served"), false);
    } finally {
      server.close();
    }
  });

  it("closes a refused connection whose client never closes, after a short linger", async () => {
    const { socket, server } = await refusingGate();
    const client = net.connect({ path: socket, allowHalfOpen: true });
    try {
      client.on("error", () => undefined);
      client.resume();
      await new Promise((resolve) => client.once("end", resolve));
      const open = (): Promise<number> =>
        new Promise((resolve, reject) => {
          server.getConnections((error, count) => {
            if (error) reject(error);
            else resolve(count);
          });
        });
      assert.equal(await open(), 1, "the client still holds its side open");
      await new Promise((resolve) => setTimeout(resolve, REFUSED_LINGER_MS + 500));
      assert.equal(await open(), 0, "the gate closed the lingering connection");
    } finally {
      client.destroy();
      server.close();
    }
  });
});
