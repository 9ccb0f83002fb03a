/**
 * The git gate's HTTP plumbing, shared by fetch and push: its plain-text answers, a request body
 * (gunzipped when git sent it so), and the head of a push request (its ref updates), read before
 * the pack.
 */
import type http from "node:http";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import type { PushRequestHead } from "./receive-pack.js";
import { parsePushHead } from "./receive-pack.js";

export const GATE = "bot-bottle git gate";
const MAX_HEAD_BYTES = 1024 * 1024;

export function text(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-cache",
  });
  res.end(`${GATE}: ${message}\n`);
}

export function requestBody(req: http.IncomingMessage): Readable {
  const encoding = req.headers["content-encoding"];
  return encoding === "gzip" ? req.pipe(zlib.createGunzip()) : req;
}

/** Reads a push request up to the end of its head; the rest stays unread (paused) in `body`. */
export function readPushHead(
  body: Readable,
): Promise<{ head: PushRequestHead; data: Buffer } | null> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const stop = (): void => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
      body.pause();
    };
    const done = (result: { head: PushRequestHead; data: Buffer } | null): void => {
      stop();
      resolve(result);
    };
    const onError = (error: unknown): void => {
      stop();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      try {
        const head = parsePushHead(data);
        if (head !== null) done({ head, data });
        else if (data.length > MAX_HEAD_BYTES) done(null);
      } catch (error) {
        onError(error);
      }
    };
    const onEnd = (): void => {
      done(null);
    };
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", onError);
  });
}
