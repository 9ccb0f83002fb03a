// Secrets carried in request header names (raw, hex, split across names), in duplicate headers
// Node drops, and in folded lines, sent by hand through the real intercepting proxy with the
// real content checks: each is refused with 403 and nothing reaches the upstream.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BottleCa } from "../../src/core/tls/bottle-ca.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import type { HarnessUpstream } from "../helpers/egress-harness.js";
import {
  collectUntilClose,
  interceptRule,
  interceptedSocket,
  startUpstream,
  withInterceptingProxy,
} from "../helpers/egress-harness.js";

const TIMEOUT = 30_000;
const TOKEN = ["bbfake", "Q7xK2mN9pR4vT8wZ", "3hJ6"].join("-");
const HOST = "api.example.test";

describe("egress header names and raw header lines", () => {
  let upstream: HarnessUpstream & { ca: BottleCa };
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  async function status(headerLines: string[]): Promise<string> {
    let answer = "";
    const policy = { allow: [interceptRule(HOST, { ports: [upstream.port] })], deny: [] };
    const inspector = new DlpInspector({ ownSecrets: [TOKEN] });
    await withInterceptingProxy(policy, upstream.ca, { inspector }, async ({ port, bottleCa }) => {
      const secure = await interceptedSocket(port, HOST, upstream.port, bottleCa.certPem);
      const received = collectUntilClose(secure, 3_000);
      secure.write(
        `GET /x HTTP/1.1\r\nHost: ${HOST}:${upstream.port}\r\n${headerLines.map((l) => `${l}\r\n`).join("")}Connection: close\r\n\r\n`,
      );
      answer = (await received).toString("latin1").split("\r\n")[0] ?? "";
      secure.destroy();
    });
    return answer;
  }

  it(
    "refuses a secret in a header name, raw, hex or split across names",
    { timeout: TIMEOUT },
    async () => {
      const hex = Buffer.from(TOKEN).toString("hex");
      const half = Math.floor(TOKEN.length / 2);
      const cases: [string, string[]][] = [
        ["raw name", [`${TOKEN}: 1`]],
        ["hex name", [`x-${hex}: 1`]],
        ["split names", [`${TOKEN.slice(0, half)}: 1`, `${TOKEN.slice(half)}: 2`]],
        ["duplicate content-type", ["Content-Type: text/plain", `Content-Type: ${TOKEN}`]],
        ["folded line", ["X-Note: hello", ` ${TOKEN}`]],
      ];
      const before = upstream.requests.length;
      for (const [what, lines] of cases) {
        const line = await status(lines);
        assert.match(line, /^HTTP\/1\.1 (403|400) /, what);
      }
      assert.equal(upstream.requests.length, before, "nothing reached the upstream");
    },
  );

  it("passes ordinary headers", { timeout: TIMEOUT }, async () => {
    const line = await status([
      "Accept: application/json",
      "X-Request-Id: 3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
      "Accept: text/plain",
      "User-Agent: curl/8.5.0",
    ]);
    assert.match(line, /^HTTP\/1\.1 200 /);
  });
});
