import { PassThrough } from "node:stream";
import type { EngineClient } from "./engine-client.js";
import { demuxStream } from "./engine-http.js";

/**
 * Waits until a container prints `line` (its readiness signal). Fails when the container exits
 * first or the timeout passes, with the container's last output in the message: only our own
 * programs (sidecar, relay) are waited on, and they never print a secret.
 */
export async function waitForLogLine(
  docker: EngineClient,
  containerId: string,
  line: string,
  timeoutMs: number,
): Promise<void> {
  const raw = await docker.getContainer(containerId).followLogs();
  const text = new PassThrough();
  demuxStream(raw, text, text);
  let seen = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`not ready after ${timeoutMs} ms; output so far:\n${seen.slice(-2000)}`));
      }, timeoutMs);
      text.on("data", (chunk: Buffer) => {
        seen += chunk.toString("utf8");
        if (seen.includes(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      raw.on("end", () => {
        clearTimeout(timer);
        reject(new Error(`exited before it was ready; output:\n${seen.slice(-2000)}`));
      });
      raw.on("error", (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    raw.destroy();
  }
}
