/**
 * One MCP exchange of the supervise gate (supervise-gate.ts): a fresh McpServer with the
 * supervise and image tools, the official SDK's Streamable HTTP transport (stateless, JSON
 * answers), one JSON-RPC message or batch in, its answer out. Loaded by the gate at the first
 * message, so an idle sidecar does not hold the SDK.
 */
import type http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { SuperviseContext } from "./supervise-tools.js";
import { registerSuperviseTools } from "./supervise-tools.js";
import { registerImageTools } from "./image-tools.js";

/**
 * Answers one parsed JSON-RPC body on `res`. `stopping` (the gate's stop) and the client closing
 * the connection both end any wait in progress.
 */
export async function answerMcp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  message: unknown,
  context: SuperviseContext,
  stopping: AbortSignal,
): Promise<void> {
  const mcp = new McpServer({ name: "bot-bottle-supervise", version: "1.0.0" });
  const exchange = new AbortController();
  registerSuperviseTools(mcp, context, AbortSignal.any([exchange.signal, stopping]));
  registerImageTools(mcp, {
    identity: context.identity,
    requestsDir: context.requestsDir,
    audit: (tool, verdict, detail) => {
      context.audit({
        time: context.now().toISOString(),
        tool,
        verdict,
        ...(detail === undefined
          ? {}
          : verdict === "filed" || verdict === "merged"
            ? { request_id: detail }
            : { detail }),
      });
    },
    now: () => context.now(),
  });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.once("close", () => {
    exchange.abort();
    void transport.close();
    void mcp.close();
  });
  await mcp.connect(transport);
  await transport.handleRequest(req, res, message);
}
