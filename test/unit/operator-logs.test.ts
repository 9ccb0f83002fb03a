/** Following an audit log: complete lines only, a partial line waits, a replaced file restarts. */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { AuditTail } from "../../src/operator/logs.js";

describe("AuditTail", () => {
  it("returns complete new lines, holds a partial one, and restarts on a shorter file", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tail-")), "egress.jsonl");
    const tail = new AuditTail(file);
    assert.deepEqual(tail.read(), [], "a missing file is no lines");
    assert.equal(tail.started, false);
    fs.writeFileSync(file, '{"a":1}\n{"b":');
    assert.deepEqual(tail.read(), ['{"a":1}']);
    assert.deepEqual(tail.read(), []);
    fs.appendFileSync(file, '2}\n\n{"c":3}\n');
    assert.deepEqual(tail.read(), ['{"b":2}', '{"c":3}']);
    fs.writeFileSync(file, '{"d":4}\n');
    assert.deepEqual(tail.read(), ['{"d":4}'], "a replaced file is read from its start");
    assert.equal(tail.started, true);
  });
});
