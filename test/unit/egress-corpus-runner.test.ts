// The corpus runner replays every frame field a case can hold (fin, continuation, control frames,
// reserved bits and opcodes) and the set-up a case states (a blocklist), through the real proxy.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { CorpusCase } from "../../scripts/corpus/replay-case.js";
import { runCorpus } from "../../scripts/corpus/run-corpus.js";

const SECRET = ["gh", "p_FAKEfakeFAKEfake0123456789abcdefAB"].join("");

function ws(id: string, expected: "block" | "allow", frames: object[]): CorpusCase {
  return {
    id,
    category: "websocket_dlp",
    expected_verdict: expected,
    transport: "websocket",
    payload: { url: "wss://ws.example.test/ws", frames } as CorpusCase["payload"],
  };
}

describe("corpus runner", () => {
  it(
    "replays fin, continuation and control frames, and a case's blocklist",
    { timeout: 60_000 },
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bb-corpus-"));
      fs.mkdirSync(path.join(dir, "cases", "mixed"), { recursive: true });
      const half = SECRET.length / 2;
      const cases: CorpusCase[] = [
        ws("fragmented-secret", "block", [
          { opcode: "text", fin: false, payload: `key ${SECRET.slice(0, half)}` },
          { opcode: "ping", payload: "keepalive" },
          { opcode: "continuation", fin: true, payload: SECRET.slice(half) },
        ]),
        ws("ping-secret", "block", [{ opcode: "ping", payload: SECRET }]),
        ws("close-reason-secret", "block", [
          { opcode: "close", close_code: 1000, payload: SECRET },
        ]),
        ws("reserved-opcode", "block", [{ opcode: 3, payload: "x" }]),
        ws("rsv2", "block", [{ opcode: "text", rsv2: true, payload: "x" }]),
        ws("benign-fragments", "allow", [
          { opcode: "text", fin: false, payload: "hello " },
          { opcode: "pong", payload: "" },
          { opcode: "continuation", fin: true, payload: "world" },
        ]),
        {
          id: "blocklisted-host",
          category: "url",
          expected_verdict: "block",
          transport: "http_proxy",
          payload: { url: "https://uploads.example-drop.test/x" },
          setup: { blocklist: ["uploads.example-drop.test"] },
        },
        {
          id: "builtin-deny",
          category: "url",
          expected_verdict: "block",
          transport: "http_proxy",
          payload: { url: "https://webhook.site/abc" },
        },
      ];
      for (const c of cases)
        fs.writeFileSync(path.join(dir, "cases", "mixed", `${c.id}.json`), JSON.stringify(c));
      const results = await runCorpus(dir);
      assert.deepEqual(
        results.map((r) => [r.id, r.verdict]),
        cases
          .map((c) => [c.id, c.expected_verdict])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
    },
  );
});
