/**
 * One MCP exchange of the supervise gate (supervise-gate.ts): a fresh stateless MCP server (the
 * official SDK, Streamable HTTP transport, JSON answers) with the supervise and image tools,
 * answering one POSTed JSON-RPC message or batch. Loaded by the gate on first use, apart from the
 * rest of the sidecar: the SDK and the tools' schemas are most of what the sidecar would otherwise
 * load before its gates listen.
 */
import type http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { SuperviseContext } from "./supervise-tools.js";
import { registerSuperviseTools } from "./supervise-tools.js";
import { registerImageTools } from "./image-tools.js";

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
