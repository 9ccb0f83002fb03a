import http from "node:http";

/** Asks the sidecar's control socket for its health; false on any failure or after `timeoutMs`. */
export function probeSidecar(controlSocket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { socketPath: controlSocket, path: "/health", timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve(false);
    });
    req.on("error", () => {
      resolve(false);
    });
  });
}
