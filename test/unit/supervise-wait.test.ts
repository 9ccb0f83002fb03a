/** wait_for_decision's pure parts and its bounded wait, with a clock the test moves. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StoredRequest } from "../../src/core/requests/request-store.js";
import type { BottleRequest, Decision } from "../../src/core/requests/request.js";
import {
  MAX_WAIT_S,
  outcomeOf,
  waitForOutcome,
  waitMs,
} from "../../src/sidecar/supervise/decision-wait.js";
import { toolSchemas } from "../../src/sidecar/supervise/tool-schemas.js";

const request: BottleRequest = {
  id: "r-abc123",
  identity: "dev-t1",
  spec: { kind: "egress", egress: { host: "a.test", ports: null, methods: null, paths: null } },
  reason: "r",
  revision: 2,
  hits: 2,
  first_seen: "2026-12-03T10:00:00.000Z",
  last_seen: "2026-12-03T10:00:05.000Z",
};

function decision(extra: Partial<Decision> = {}): Decision {
  return {
    request_id: request.id,
    revision: 2,
    status: "approved",
    scope: "once",
    expires_at: null,
    granted: request.spec,
    note: null,
    decided_at: "2026-12-03T10:01:00.000Z",
    by: "cli:test",
    ...extra,
  };
}

const now = new Date("2026-12-03T11:00:00.000Z");

describe("wait_for_decision (pure)", () => {
  it("pending without a decision, or with one on an older revision (the ask widened since)", () => {
    assert.equal(outcomeOf({ request, decision: undefined }, now).status, "pending");
    const stale = outcomeOf({ request, decision: decision({ revision: 1 }) }, now);
    assert.equal(stale.status, "pending");
    assert.equal(stale.granted, null, "a stale approval grants nothing");
  });

  it("approved with its scope and grant; denied with its note and no grant; expired past its end", () => {
    const ok = outcomeOf({ request, decision: decision({ note: "go" }) }, now);
    assert.deepEqual([ok.status, ok.scope, ok.note], ["approved", "once", "go"]);
    assert.deepEqual(ok.granted, request.spec);
    const no = outcomeOf(
      { request, decision: decision({ status: "denied", scope: null, granted: null, note: "no" }) },
      now,
    );
    assert.deepEqual([no.status, no.note, no.granted], ["denied", "no", null]);
    const old = outcomeOf(
      { request, decision: decision({ scope: "for", expires_at: "2026-12-03T10:30:00.000Z" }) },
      now,
    );
    assert.equal(old.status, "expired");
  });

  it("clamps the wait to 0..50 s, 30 s by default", () => {
    assert.equal(waitMs(undefined), 30_000);
    assert.equal(waitMs(0.5), 500);
    assert.equal(waitMs(500), MAX_WAIT_S * 1000);
    assert.equal(waitMs(-1), 0);
    assert.equal(waitMs(Number.NaN), 0);
  });

  it("the tool schema refuses a timeout above 50 s and an id that is not a request id", () => {
    const schema = toolSchemas.wait_for_decision;
    assert.equal(schema.safeParse({ request_id: "r-abc123", timeout_s: 50 }).success, true);
    assert.equal(schema.safeParse({ request_id: "r-abc123", timeout_s: 51 }).success, false);
    assert.equal(schema.safeParse({ request_id: "../etc/passwd" }).success, false);
    assert.equal(schema.safeParse({ request_id: "r-abc123", extra: 1 }).success, false);
  });
});

describe("wait_for_decision (the wait)", () => {
  it("returns pending when its time is up, having read the file until then", async () => {
    let reads = 0;
    const read = (): StoredRequest => {
      reads += 1;
      return { request, decision: undefined };
    };
    const started = Date.now();
    const outcome = await waitForOutcome(read, 450, undefined);
    assert.equal(outcome?.status, "pending");
    assert.ok(Date.now() - started >= 440);
    assert.ok(reads >= 2, `read ${reads} times`);
  });

  it("returns as soon as a decision appears", async () => {
    let reads = 0;
    const read = (): StoredRequest => {
      reads += 1;
      return { request, decision: reads >= 3 ? decision() : undefined };
    };
    const started = Date.now();
    const outcome = await waitForOutcome(read, 10_000, undefined);
    assert.equal(outcome?.status, "approved");
    assert.ok(Date.now() - started < 2_000);
  });

  it("stops waiting when the client goes away (pending, not a denial)", async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 100);
    const started = Date.now();
    const outcome = await waitForOutcome(
      () => ({ request, decision: undefined }),
      10_000,
      controller.signal,
    );
    assert.equal(outcome?.status, "pending");
    assert.ok(Date.now() - started < 2_000);
  });

  it("undefined for a request that is not there", async () => {
    assert.equal(await waitForOutcome(() => undefined, 1_000, undefined), undefined);
  });
});
