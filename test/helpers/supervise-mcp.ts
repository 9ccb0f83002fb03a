/**
 * How a test's agent asks for an image change: `request_image_change` on the supervise gate,
 * called with curl from inside the bottle (127.0.0.1:3131/mcp), as any agent could.
 */
import type { ImageChangeFiled } from "../../src/sidecar/supervise/image-tools.js";
import type { Sandbox } from "./cli.js";
import { mcpCall } from "./mcp-curl.js";

export async function askForImageChange(
  box: Sandbox,
  identity: string,
  dockerfile: string,
  reason: string,
): Promise<ImageChangeFiled> {
  const result = await mcpCall(box, identity, "request_image_change", { dockerfile, reason });
  if (result.isError) throw new Error(`request_image_change refused: ${result.text}`);
  return result.value as unknown as ImageChangeFiled;
}
