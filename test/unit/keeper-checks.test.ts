// The secret keeper's zod-free checks accept exactly what the contract's schemas accept, on the
// documents it reads: health reports and the secrets handed over.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { healthReportSchema, sidecarSecretsSchema } from "../../src/core/contract/contract.js";
import { healthStateOf, isSidecarSecrets } from "../../src/core/contract/keeper-checks.js";

const REPORT = { ok: true, state: "ready", identity: "sh-abc123", gates: ["egress"], uptime_ms: 5 };

describe("keeper checks", () => {
  it("reads the state of a health report as the schema does", () => {
    const waiting = { ...REPORT, ok: false, state: "degraded: waiting for secrets" };
    for (const report of [REPORT, waiting]) {
      assert.equal(healthStateOf(report), healthReportSchema.parse(report).state);
    }
  });

  it("refuses what is not a health report", () => {
    for (const bad of [
      null,
      "ready",
      [],
      { ...REPORT, state: "fine" },
      { ...REPORT, ok: "true" },
      { ...REPORT, ok: false },
      { ...REPORT, ok: true, state: "degraded: waiting for secrets" },
    ]) {
      assert.equal(healthStateOf(bad), undefined, JSON.stringify(bad));
    }
  });

  it("accepts the secrets the schema accepts, and refuses what it refuses", () => {
    const cases: unknown[] = [
      { credentials: {}, git: {} },
      { credentials: { api: "fake-token" }, git: { app: { token: "fake-git-token" } } },
      { credentials: {}, git: { app: { identityKey: "fake-key", token: "t" } } },
      { credentials: {}, git: { app: {} } },
      { credentials: { api: "" }, git: {} },
      { credentials: { "": "x" }, git: {} },
      { credentials: { api: 5 }, git: {} },
      { credentials: {}, git: { app: { password: "x" } } },
      { credentials: {}, git: { app: { token: "" } } },
      { credentials: {}, git: { app: "x" } },
      { credentials: {}, git: {}, extra: 1 },
      { credentials: {} },
      { credentials: [], git: {} },
      null,
      [],
    ];
    for (const value of cases) {
      assert.equal(
        isSidecarSecrets(value),
        sidecarSecretsSchema.safeParse(value).success,
        JSON.stringify(value),
      );
    }
  });
});
