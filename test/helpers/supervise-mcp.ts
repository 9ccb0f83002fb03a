/**
 * How a test's agent asks for an image change. Until the supervise gate's MCP server is merged,
 * the request is filed by the gate's own handler (src/sidecar/supervise/image-tools.ts) on the
 * bottle's state folder, which is what the server does when `request_image_change` is called.
 */
import path from "node:path";
import type { ImageChangeFiled } from "../../src/sidecar/supervise/image-tools.js";
import { requestImageChange } from "../../src/sidecar/supervise/image-tools.js";
import type { Sandbox } from "./cli.js";

export function askForImageChange(
  box: Sandbox,
  identity: string,
  dockerfile: string,
  reason: string,
): Promise<ImageChangeFiled> {
  const stateDir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity);
  return Promise.resolve(requestImageChange(stateDir, identity, { dockerfile, reason }));
}
