/**
 * How the egress gate says no: a 403 (or another final status) with `X-Bot-Bottle-Denied`
 * naming the rule or finding, and a short text a model can act on: what was blocked, why, and
 * how to ask for access. Also the raw-socket form used before HTTP parsing (CONNECT answers).
 */
import http from "node:http";
import type net from "node:net";
import type { EgressDecision } from "./egress-policy.js";
import { displayHost } from "./egress-policy.js";
import { askAdvice } from "../shared/denial-advice.js";

export const DENIED_HEADER = "X-Bot-Bottle-Denied";

/** How long a refused client may keep its side open after the final response. */
const END_GRACE_MS = 5_000;

/** A header value that cannot break the response: printable ASCII only. */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * The body of a denial: what, why, and what to do (with supervise on: the `request_egress` tool;
 * otherwise the operator's `bottle policy allow` command).
 */
export function denialText(
  what: string,
  host: string,
  decision: EgressDecision,
  ask: { supervise: boolean; port?: number } = { supervise: false },
): string {
  const finding = decision.rule?.startsWith("dlp:") === true;
  const internal = decision.rule === "internal-address";
  const advice = finding
    ? "Remove the secret from the request. Credentials are injected by the bottle's gates; the agent never needs to send one."
    : askAdvice({ host: displayHost(host), internal, ...ask });
  return [`bot-bottle blocked ${what}.`, `Reason: ${decision.reason}.`, advice, ""].join("\n");
}

/** `403 Forbidden` and the like: a status code and its standard phrase. */
export function statusLine(status: number): string {
  return `${status} ${http.STATUS_CODES[status] ?? "Error"}`;
}

/** A complete HTTP/1.1 response as text, closing the connection. */
export function rawResponse(status: string, headers: Record<string, string>, body: string): string {
  const lines = [`HTTP/1.1 ${status}`];
  const all = {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    Connection: "close",
    ...headers,
  };
  for (const [name, value] of Object.entries(all)) lines.push(`${name}: ${headerSafe(value)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

/**
 * Sends a final response on a raw client socket and closes it. Whatever the client sends meanwhile
 * is read and dropped (unread bytes would turn the close into a reset that can hide the response);
 * a client that never closes its side is cut after a grace period.
 */
export function endWith(client: net.Socket, response: string): void {
  if (!client.writable) {
    client.destroy();
    return;
  }
  client.resume();
  client.setTimeout(END_GRACE_MS, () => {
    client.destroy();
  });
  client.end(response);
}

/** The answer to a request the HTTP parser refused: too large, too slow, or malformed. */
export function clientErrorResponse(error: NodeJS.ErrnoException): string {
  if (error.code === "HPE_HEADER_OVERFLOW") {
    return rawResponse(
      "431 Request Header Fields Too Large",
      {},
      "bot-bottle egress proxy: the request head is larger than the gate accepts.\n",
    );
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return rawResponse(
      "408 Request Timeout",
      {},
      "bot-bottle egress proxy: the request head took too long to arrive.\n",
    );
  }
  return rawResponse(
    "400 Bad Request",
    {},
    "bot-bottle egress proxy: the request could not be parsed.\n",
  );
}
