/**
 * One request to a sidecar's control socket (see src/sidecar/control-server.ts), with nothing but
 * node:http: the pooled start's path loads it without the contract's schemas. Requests carry
 * secrets (PUT /secrets); nothing here logs a body. A refusal or no answer is a BottleError.
 */
import http from "node:http";
import { BottleError } from "../../core/errors.js";

export async function controlRequest(
  socketPath: string,
  method: "GET" | "PUT",
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path,
        timeout: timeoutMs,
        headers:
          payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) {
            reject(
              new BottleError(
                "bottle_not_running",
                `The bottle's sidecar refused ${method} ${path}: ${text}`,
              ),
            );
            return;
          }
          resolve(JSON.parse(text) as unknown);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) => {
      reject(
        new BottleError(
          "bottle_not_running",
          `The bottle's sidecar does not answer (${error.message}).`,
          {
            hint: "`bottle list` shows its health; `bottle resume <identity>` starts a stopped bottle again.",
          },
        ),
      );
    });
    req.end(payload);
  });
}
