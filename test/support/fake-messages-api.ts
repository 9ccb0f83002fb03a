/**
 * A scripted stand-in of Anthropic's Messages API, for tests: it checks the credential, records
 * every request, and answers POST /v1/messages in the real streaming form (server-sent events) or
 * as JSON. Node built-ins only (with fake-api-server.js beside it), so it also runs inside a test
 * container: `node fake-messages-api.js` with FAKE_API_MAIN=1, FAKE_API_TOKEN, FAKE_API_COMMAND,
 * FAKE_API_FINAL, TLS_KEY and TLS_CERT set, printing each request as a JSON line.
 *
 * The script: a request whose tools include `Bash` and whose conversation holds no tool result
 * yet gets a turn that runs `command` with the Bash tool; one that holds a tool result gets the
 * `final` text; any other request (titles, summaries) gets a short text.
 *
 * With `steps` (FAKE_API_STEPS, JSON), the agent's turns call those tools in order instead, one
 * per turn (the Nth turn after N tool results), then the `final` text. A string input may hold
 * `{{request_id}}`: the last `r-<hex>` id seen in the tool results so far (a supervise request).
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

/** The token is sent as x-api-key or Bearer. */
export interface FakeApiOptions extends FakeApiScript {
  /** Tools to call in order, one per turn (see the file's comment). */
  steps?: ScriptedStep[];
  /** For the benchmark: GET /stream?events=N&gap=MS streams N events, one every MS. */
}

export interface ScriptedStep {
  tool: string;
  input: Record<string, unknown>;
}

interface ContentBlock {
  type: string;
  text?: string;
  content?: unknown;
}

interface MessagesBody {
  stream?: boolean;
  model?: string;
  tools?: { name: string }[];
  messages?: { role: string; content: string | ContentBlock[] }[];
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function hasToolResult(body: MessagesBody): boolean {
  return (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((b) => b.type === "tool_result"),
  );
}

type Turn =
  | { kind: "text"; text: string }
  | { kind: "tool"; name: string; input: Record<string, unknown>; id: string };

function toolResults(body: MessagesBody): ContentBlock[] {
  return (body.messages ?? []).flatMap((m) =>
    Array.isArray(m.content) ? m.content.filter((b) => b.type === "tool_result") : [],
  );
}

/** `{{request_id}}` in string inputs: the last supervise request id in the tool results. */
function filled(input: Record<string, unknown>, body: MessagesBody): Record<string, unknown> {
  const ids = [...JSON.stringify(toolResults(body)).matchAll(/r-[0-9a-f]{6,12}/g)];
  const id = ids.at(-1)?.[0] ?? "r-none";
  return Object.fromEntries(
    Object.entries(input).map(([k, v]) => [
      k,
      typeof v === "string" ? v.replaceAll("{{request_id}}", id) : v,
    ]),
  );
}

function turnFor(body: MessagesBody, options: FakeApiOptions): Turn {
  const bash = (body.tools ?? []).some((t) => t.name === "Bash");
  const done = toolResults(body).length;
  if (bash && options.steps !== undefined) {
    const step = options.steps[done];
    if (step === undefined) return { kind: "text", text: options.final };
    return {
      kind: "tool",
      name: step.tool,
      input: filled(step.input, body),
      id: `toolu_0${done}fake`,
    };
  }
  if (bash && !hasToolResult(body)) {
    return {
      kind: "tool",
      name: "Bash",
      input: { command: options.command, description: "scripted" },
      id: "toolu_01fake",
    };
  }
  if (hasToolResult(body)) return { kind: "text", text: options.final };
  return { kind: "text", text: "ok" };
}

function events(turn: Turn, model: string): string[] {
  const id = `msg_${Math.random().toString(36).slice(2, 12)}`;
  const out = [
    sse("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 1 },
      },
    }),
  ];
  if (turn.kind === "text") {
    out.push(
      sse("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
      sse("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: turn.text },
      }),
    );
  } else {
    out.push(
      sse("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: turn.id, name: turn.name, input: {} },
      }),
      sse("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(turn.input) },
      }),
    );
  }
  out.push(
    sse("content_block_stop", { type: "content_block_stop", index: 0 }),
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: turn.kind === "text" ? "end_turn" : "tool_use", stop_sequence: null },
      usage: { output_tokens: 20 },
    }),
    sse("message_stop", { type: "message_stop" }),
  );
  return out;
}

function jsonMessage(turn: Turn, model: string): unknown {
  return {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model,
    content:
      turn.kind === "text"
        ? [{ type: "text", text: turn.text }]
        : [{ type: "tool_use", id: turn.id, name: turn.name, input: turn.input }],
    stop_reason: turn.kind === "text" ? "end_turn" : "tool_use",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 20 },
  };
}

function authorized(headers: http.IncomingHttpHeaders, token: string): boolean {
  return headers["x-api-key"] === token || headers.authorization === `Bearer ${token}`;
}

export function fakeMessagesHandler(
  options: FakeApiOptions,
  record: (request: RecordedRequest) => void,
): http.RequestListener {
  return recordingHandler(record, (req, res, body) => {
    const url = new URL(req.url ?? "/", "http://fake");
    if (url.pathname === "/stream") {
      const count = Number(url.searchParams.get("events") ?? "100");
      const gap = Number(url.searchParams.get("gap") ?? "5");
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.flushHeaders();
      let sent = 0;
      const timer = setInterval(() => {
        res.write(sse("tick", { n: sent, t: performance.timeOrigin + performance.now() }));
        sent += 1;
        if (sent >= count) {
          clearInterval(timer);
          res.end();
        }
      }, gap);
      res.once("close", () => {
        clearInterval(timer);
      });
      return;
    }
    if (!authorized(req.headers, options.token)) {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "authentication_error", message: "invalid x-api-key" },
        }),
      );
      return;
    }
    if (req.method !== "POST" || !url.pathname.endsWith("/v1/messages")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "not_found_error", message: "no such path" },
        }),
      );
      return;
    }
    const messages = (body ?? {}) as MessagesBody;
    const turn = turnFor(messages, options);
    const model = messages.model ?? "claude-fake";
    if (messages.stream === true) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const event of events(turn, model)) res.write(event);
      res.end();
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(jsonMessage(turn, model)));
    }
  });
}

export async function startFakeMessagesApi(
  options: FakeApiOptions,
  port = 0,
): Promise<FakeApiServer> {
  return startFakeApiServer((record) => fakeMessagesHandler(options, record), options.tls, port);
}

if (process.env["FAKE_API_MAIN"] === "1") {
  const env = process.env;
  void startFakeMessagesApi(
    {
      ...scriptFromEnv(env, "true"),
      ...(env["FAKE_API_STEPS"] === undefined
        ? {}
        : { steps: JSON.parse(env["FAKE_API_STEPS"]) as ScriptedStep[] }),
    },
    portFromEnv(env),
  ).then((started) => {
    printRequests(started, "fake messages api ready");
  });
}
