/**
 * The host's client of a sidecar's control socket (see src/sidecar/control-server.ts). Requests
 * carry secrets (PUT /secrets); nothing here logs a body.
 */
import http from "node:http";
import { egressRulesSchema } from "../../core/contract/contract.js";
import { BottleError } from "../../core/errors.js";
import type { BottlePaths } from "../../core/state/bottle-state.js";
import { writeRules } from "../../core/state/policy-store.js";

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

/** Asks the sidecar's control socket for its health; false on any failure. */
export async function probeSidecar(controlSocket: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await controlRequest(controlSocket, "GET", "/health", undefined, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Saves the rules the sidecar holds as policy.json before it is removed, so that resume starts
 * from them: the sidecar drops `once` rules it spent, which policy.json still lists otherwise. A
 * sidecar that does not answer (or answers rules that do not parse) leaves policy.json as it is.
 */
export async function saveLiveRules(paths: BottlePaths): Promise<void> {
  try {
    const live = await controlRequest(paths.controlSocket, "GET", "/policy", undefined, 2000);
    const parsed = egressRulesSchema.safeParse(live);
    if (parsed.success) writeRules(paths, parsed.data);
  } catch {
    // Nothing to save from a sidecar that is gone.
  }
}
