/**
 * The supervise MCP server driven from inside a bottle with curl, as any agent could: Streamable
 * HTTP at http://127.0.0.1:3131/mcp (the relay's port), initialize, the initialized notification,
 * then one tool call. Returns the tool result's structured content (or its text parsed as JSON).
 */
import type { Sandbox } from "./cli.js";
import { bottleExec } from "./docker.js";

const SCRIPT = String.raw`
set -e
post() {
  curl -sS --noproxy '*' -X POST http://127.0.0.1:3131/mcp \
    -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -H 'mcp-protocol-version: 2025-06-18' ${"$"}{SID:+-H "mcp-session-id: $SID"} \
    -D /tmp/mcp-h -d "$1"
}
post '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' > /tmp/mcp-init
SID=$(tr -d '\r' < /tmp/mcp-h | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
post '{"jsonrpc":"2.0","method":"notifications/initialized"}' > /dev/null
post "$CALL"
`;

export interface ToolResult {
  isError: boolean;
  value: Record<string, unknown>;
  text: string;
}

/** Calls `tool` with `args` from inside bottle `identity`. */
export async function mcpCall(
  box: Sandbox,
  identity: string,
  tool: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  const call = JSON.stringify({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: tool, arguments: args },
  });
  const quoted = `'${call.replace(/'/g, `'\\''`)}'`;
  const run = await bottleExec(box, identity, `CALL=${quoted}\n${SCRIPT}`);
  if (run.code !== 0)
    throw new Error(`mcp ${tool} failed (${run.code}): ${run.stderr}${run.stdout}`);
  // The answer is JSON, or an SSE stream whose data lines hold it.
  const data = run.stdout.includes("data: ")
    ? (run.stdout
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .at(-1) ?? "")
    : run.stdout;
  const message = JSON.parse(data) as {
    result?: {
      isError?: boolean;
      structuredContent?: Record<string, unknown>;
      content?: { type: string; text?: string }[];
    };
    error?: { message: string };
  };
  if (message.result === undefined) throw new Error(`mcp ${tool}: ${data}`);
  const text = (message.result.content ?? []).map((c) => c.text ?? "").join("\n");
  let value = message.result.structuredContent;
  if (value === undefined) {
    try {
      value = JSON.parse(text) as Record<string, unknown>;
    } catch {
      value = {};
    }
  }
  return { isError: message.result.isError === true, value, text };
}
