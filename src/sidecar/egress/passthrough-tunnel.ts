/**
 * A tunnel under a `passthrough` rule: the checked address is dialled, `200 Connection
 * Established` is sent once it answers, and bytes flow both ways unread. An upstream that cannot
 * be reached gives 502. One audit line when the tunnel closes.
 *
 * The download side (upstream to agent) reads into one reused buffer (reused-buffer-copy.ts):
 * no Buffer per read, no per-chunk stream work; the upload side is piped.
 */
import type net from "node:net";
import type { AuditEntry } from "./egress-audit-entry.js";
import { endWith, rawResponse } from "./denial.js";
import type { EgressGate } from "./egress-gate.js";
import { displayHost } from "./egress-policy.js";
import { errorCode } from "./forward-request.js";
import { ReusedBufferCopy } from "../shared/reused-buffer-copy.js";

export function passThrough(
  gate: EgressGate,
  client: net.Socket,
  head: Buffer,
  entry: AuditEntry,
  started: number,
): void {
  const { host, port } = entry;
  let upstream: net.Socket;
  const download = new ReusedBufferCopy(client);
  try {
    upstream = gate.dial(entry.address ?? host, port, download.onread);
    gate.track(upstream);
    // Bytes are passed on as they come: no small write waits for an earlier one's ACK.
    upstream.setNoDelay(true);
    client.setNoDelay(true);
  } catch (error) {
    failTunnel(client, host, port, errorCode(error));
    gate.audit({ ...entry, status: 502, error: errorCode(error), duration_ms: 0 });
    return;
  }

  let established = false;
  let failure: string | undefined;
  upstream.once("connect", () => {
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    established = true;
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    download.attach(upstream);
  });
  upstream.once("error", (error) => {
    failure = errorCode(error);
    if (!established) failTunnel(client, host, port, failure);
    else client.destroy();
  });
  let clientGone = false;
  client.once("close", () => {
    clientGone = true;
    upstream.destroy();
  });
  upstream.once("close", () => {
    // A clean end after the tunnel was up was already passed on by pipe (after the last byte).
    if (!established && failure === undefined) {
      failure = clientGone ? "the client left first" : "the upstream closed before connecting";
      failTunnel(client, host, port, failure);
    }
    gate.audit({
      ...entry,
      status: established ? 200 : 502,
      bytes_up: upstream.bytesWritten,
      bytes_down: upstream.bytesRead,
      duration_ms: Date.now() - started,
      ...(failure === undefined ? {} : { error: failure }),
    });
  });
}

function failTunnel(client: net.Socket, host: string, port: number, code: string): void {
  const body = `bot-bottle egress proxy: could not connect to ${displayHost(host)}:${port} (${code}).\n`;
  endWith(client, rawResponse("502 Bad Gateway", {}, body));
}
