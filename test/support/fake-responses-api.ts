/**
 * A scripted stand-in of OpenAI's Responses API, for tests of the Codex CLI: it checks the
 * credential, records every request, and answers POST .../responses in the streaming form Codex
 * reads (server-sent events: response.created, response.output_item.done, response.completed).
 * Node built-ins only (with fake-api-server.js beside it), so it also runs inside a test container:
 * `node fake-responses-api.js` with FAKE_API_MAIN=1, FAKE_API_TOKEN, FAKE_API_COMMAND,
 * FAKE_API_FINAL, TLS_KEY and TLS_CERT set, printing each request as a JSON line.
 *
 * The script: a request whose tools include Codex's shell tool (`exec_command`, or the older
 * `shell`) and whose input holds no function call output yet gets a turn that calls it with
 * `command`; one that holds an output gets the `final` text; any other request gets a short text.
 */
import type http from "node:http";
import type { FakeApiScript, FakeApiServer, RecordedRequest } from "./fake-api-server.js";
import {
  portFromEnv,
  printRequests,
  recordingHandler,
  scriptFromEnv,
  startFakeApiServer,
} from "./fake-api-server.js";

export type { RecordedRequest } from "./fake-api-server.js";

/** The token is sent as Bearer. */
export type FakeResponsesOptions = FakeApiScript;

interface ResponsesBody {
  model?: string;
  tools?: { type?: string; name?: string }[];
  input?: { type?: string }[];
}

type Turn = { kind: "text"; text: string } | { kind: "tool"; name: string; command: string };

const SHELL_TOOLS = ["exec_command", "shell_command", "shell"];

function shellTool(body: ResponsesBody): string | undefined {
  const names = (body.tools ?? []).map((t) => t.name);
  return SHELL_TOOLS.find((name) => names.includes(name));
}

function hasToolOutput(body: ResponsesBody): boolean {
  return (body.input ?? []).some((item) => item.type === "function_call_output");
}

function turnFor(body: ResponsesBody, options: FakeResponsesOptions): Turn {
  if (hasToolOutput(body)) return { kind: "text", text: options.final };
  const tool = shellTool(body);
  if (tool !== undefined && options.command !== "") {
    return { kind: "tool", name: tool, command: options.command };
  }
  return { kind: "text", text: "ok" };
}

/** The arguments each of Codex's shell tools takes. */
function toolArguments(turn: { name: string; command: string }): string {
  if (turn.name === "exec_command") return JSON.stringify({ cmd: turn.command });
  if (turn.name === "shell_command") return JSON.stringify({ command: turn.command });
  return JSON.stringify({ command: ["bash", "-lc", turn.command] });
}

function sse(data: { type: string; [key: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function events(turn: Turn, model: string): string[] {
  const id = `resp_${Math.random().toString(36).slice(2, 12)}`;
  const item =
    turn.kind === "text"
      ? {
          type: "message",
          id: `msg_${id}`,
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: turn.text, annotations: [] }],
        }
      : {
          type: "function_call",
          id: `fc_${id}`,
          call_id: `call_${id}`,
          name: turn.name,
          arguments: toolArguments(turn),
          status: "completed",
        };
  const out = [sse({ type: "response.created", response: { id, model, status: "in_progress" } })];
  if (turn.kind === "text") {
    out.push(
      sse({ type: "response.output_item.added", output_index: 0, item: { ...item, content: [] } }),
      sse({ type: "response.output_text.delta", output_index: 0, delta: turn.text }),
    );
  }
  out.push(
    sse({ type: "response.output_item.done", output_index: 0, item }),
    sse({
      type: "response.completed",
      response: {
        id,
        model,
        status: "completed",
        usage: {
          input_tokens: 10,
          input_tokens_details: null,
          output_tokens: 20,
          output_tokens_details: null,
          total_tokens: 30,
        },
      },
    }),
  );
  return out;
}

function errorBody(type: string, message: string): string {
  return JSON.stringify({ error: { type, message, code: null, param: null } });
}

export function fakeResponsesHandler(
  options: FakeResponsesOptions,
  record: (request: RecordedRequest) => void,
): http.RequestListener {
  return recordingHandler(record, (req, res, body) => {
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(errorBody("invalid_request_error", "Incorrect API key provided."));
      return;
    }
    const url = new URL(req.url ?? "/", "http://fake");
    if (req.method !== "POST" || !url.pathname.endsWith("/responses")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(errorBody("invalid_request_error", "no such path"));
      return;
    }
    const request = (body ?? {}) as ResponsesBody;
    const turn = turnFor(request, options);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    for (const event of events(turn, request.model ?? "gpt-fake")) res.write(event);
    res.end();
  });
}

export async function startFakeResponsesApi(
  options: FakeResponsesOptions,
  port = 0,
): Promise<FakeApiServer> {
  return startFakeApiServer((record) => fakeResponsesHandler(options, record), options.tls, port);
}

if (process.env["FAKE_API_MAIN"] === "1") {
  void startFakeResponsesApi(scriptFromEnv(process.env, ""), portFromEnv(process.env)).then(
    (started) => {
      printRequests(started, "fake responses api ready");
    },
  );
}
