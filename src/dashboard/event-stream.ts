/**
 * Server-sent events for the page (`GET /api/events`): the traffic feed's entries (backlog first,
 * from the Last-Event-ID the browser sends when it reconnects) and, whenever they change, the
 * agents' requests. Each stream is one open response; the server closes them all on stop.
 */
import type http from "node:http";
import type { TrafficEntry } from "./traffic-entry.js";
import type { TrafficFeed } from "./traffic-feed.js";

/** Entries per SSE message: the backlog goes out in a few large messages, not thousands. */
const BATCH = 500;
const HEARTBEAT_MS = 15_000;

function write(res: http.ServerResponse, event: string, data: unknown, id?: number): void {
  const head = id === undefined ? "" : `id: ${id}\n`;
  res.write(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function sendTraffic(res: http.ServerResponse, entries: readonly TrafficEntry[]): void {
  for (let at = 0; at < entries.length; at += BATCH) {
    const batch = entries.slice(at, at + BATCH);
    write(res, "traffic", batch, batch[batch.length - 1]?.seq);
  }
}

export class EventStreams {
  private readonly streams = new Set<http.ServerResponse>();
  private lastRequests = "";

  constructor(private readonly feed: TrafficFeed) {}

  /** Opens a stream on `res`; `lastEventId` is the browser's Last-Event-ID on a reconnect. */
  open(req: http.IncomingMessage, res: http.ServerResponse, requests: unknown): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    res.write("retry: 1000\n\n");
    const last = Number(req.headers["last-event-id"] ?? "0");
    write(res, "requests", requests);
    sendTraffic(res, this.feed.since(Number.isInteger(last) && last > 0 ? last : 0));
    const unsubscribe = this.feed.subscribe((entries) => {
      sendTraffic(res, entries);
    });
    const heartbeat = setInterval(() => res.write(": alive\n\n"), HEARTBEAT_MS);
    this.streams.add(res);
    res.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
    });
  }

  /** Sends the requests to every stream when they differ from what was sent last. */
  publishRequests(requests: unknown): void {
    const text = JSON.stringify(requests);
    if (text === this.lastRequests) return;
    this.lastRequests = text;
    for (const res of this.streams) write(res, "requests", requests);
  }

  closeAll(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
