import { PassThrough } from "node:stream";
import type Docker from "dockerode";

/**
 * Waits until a container prints `line` (its readiness signal). Fails when the container exits
 * first or the timeout passes, with the container's last output in the message: only our own
 * programs (sidecar, relay) are waited on, and they never print a secret.
 */
export async function waitForLogLine(
  docker: Docker,
  containerId: string,
  line: string,
  timeoutMs: number,
): Promise<void> {
  const container = docker.getContainer(containerId);
  const raw = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  const text = new PassThrough();
  docker.modem.demuxStream(raw, text, text);
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
    raw.destroy?.();
  }
}
