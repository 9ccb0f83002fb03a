// Words the egress gate says: each names what was wrong and what to do; bottle logs --egress in
// time order.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { inTimeOrder } from "../../src/operator/logs.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import type { HarnessUpstream } from "../helpers/egress-harness.js";
import {
  collectUntilClose,
  interceptRule,
  interceptedSocket,
  startUpstream,
  withInterceptingProxy,
} from "../helpers/egress-harness.js";

describe("egress messages", () => {
  let upstream: HarnessUpstream & { ca: BottleCa };
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  it(
    "says an HTTP/1.0 request in a tunnel names no host, and what to send",
    { timeout: 30_000 },
    async () => {
      const policy = {
        allow: [interceptRule("api.example.test", { ports: [upstream.port] })],
        deny: [],
      };
      await withInterceptingProxy(policy, upstream.ca, {}, async ({ port, bottleCa }) => {
        const secure = await interceptedSocket(
          port,
          "api.example.test",
          upstream.port,
          bottleCa.certPem,
        );
        const answer = collectUntilClose(secure, 3_000);
        secure.write("GET /x HTTP/1.0\r\n\r\n");
        const text = (await answer).toString("latin1");
        assert.match(text, /names no host/);
        assert.match(text, /send Host: api\.example\.test/);
        assert.doesNotMatch(text, /names {2}inside/);
      });
    },
  );

  it(
    "calls a URL with %00 in its host invalid, not a wrong scheme",
    { timeout: 30_000 },
    async () => {
      const policy = { allow: [interceptRule("allowed.test", { ports: [80] })], deny: [] };
      const proxy = new EgressProxy({
        decide: (request) => decideEgress(policy, request),
        audit: () => undefined,
        resolve: () => Promise.resolve(["127.0.0.1"]),
      });
      await proxy.listen({ host: "127.0.0.1", port: 0 });
      try {
        const socket = net.connect(proxy.address(), "127.0.0.1");
        const answer = collectUntilClose(socket, 3_000);
        socket.write(
          "GET http://allowed.test%00.evil.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
        );
        const text = (await answer).toString("latin1");
        assert.match(text, /^HTTP\/1\.1 400/);
        assert.match(text, /the URL is not valid/);
        assert.doesNotMatch(text, /only http:\/\//);
      } finally {
        await proxy.stop();
      }
    },
  );
});

describe("bottle logs --egress order", () => {
  it("sorts entries by the time their request arrived", () => {
    const line = (time: string, path: string): string => JSON.stringify({ time, path });
    const lines = [
      line("2026-01-01T00:00:02.000Z", "/b"),
      line("2026-01-01T00:00:01.000Z", "/a"),
      "not json",
      line("2026-01-01T00:00:03.000Z", "/c"),
      "",
    ];
    assert.deepEqual(
      inTimeOrder(lines).map((text) =>
        text.startsWith("{") ? (JSON.parse(text) as { path: string }).path : text,
      ),
      // "not json" follows /a in the file, so it stays after /a.
      ["/a", "not json", "/b", "/c"],
    );
  });
});
