/**
 * What an agent in a supervised bottle is told (appended to its system prompt where the provider
 * takes one), and where it reaches the supervise MCP server. Pure data, read by the planner and
 * the providers' provisioning.
 */
import { GATES } from "./layout.js";

/** The name the supervise server is registered under: its tools read `mcp__supervise__<tool>`. */
export const SUPERVISE_SERVER_NAME = "supervise";

/** The URL of the supervise MCP server inside the bottle (the relay's port, Streamable HTTP). */
export const SUPERVISE_MCP_URL = `http://127.0.0.1:${GATES.supervise.port}/mcp`;

export const SUPERVISE_NOTE = [
  "You run in a bot-bottle: network access is denied unless the operator allowed it.",
  "When a request is refused (HTTP 403 from the proxy with an X-Bot-Bottle-Denied header, or a git push refused for its branch),",
  "use the `supervise` MCP tools instead of working around it: `recent_denials` shows exactly what was refused;",
  "`request_egress` (host, and the ports, methods and paths you need) or `request_push_branch` asks the operator, with a one-line reason;",
  "then `wait_for_decision` with the request id (call it again while it is pending: a timeout is neither a yes nor a no).",
  "Ask for the narrowest access that does the job. `list_egress_rules` shows what is allowed now.",
  "When a tool you need is not installed (and installing it needs root), do not work around it: `current_image_recipe` shows what your image is built from,",
  "and `request_image_change` asks the operator to add Dockerfile instructions (such as `RUN apt-get update && apt-get install -y --no-install-recommends jq`);",
  "once approved, the bottle restarts on the new image and your session continues there.",
].join(" ");

/** The prompt to append: the agent's own, then the supervise note when the bottle is supervised. */
export function appendedPrompt(prompt: string | undefined, supervise: boolean): string | undefined {
  const parts = [prompt, supervise ? SUPERVISE_NOTE : undefined].filter(
    (p): p is string => p !== undefined && p !== "",
  );
  return parts.length === 0 ? undefined : parts.join("\n\n");
}
