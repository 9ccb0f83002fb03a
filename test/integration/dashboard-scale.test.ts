/**
 * The dashboard at scale in a real browser: 20 bottles and 10,000 audit lines. The page renders
 * within 1 s, holds every entry while keeping only the rows in view in the DOM, and filters
 * without stalling. Figures are printed (`node --test dist/test/integration/dashboard-scale.test.js`).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { launchBrowser } from "../helpers/browser.js";
import {
  appendAudit,
  egressLine,
  fileEgressRequest,
  seedBottle,
  startDashboard,
  tempHost,
} from "../helpers/dashboard.js";
import { fileRequest, requestsDir } from "../../src/core/requests/request-store.js";
import { bottlePaths } from "../../src/core/state/bottle-state.js";

const BOTTLES = 20;
const LINES = 10_000;

describe("dashboard at scale", () => {
  it("renders 20 bottles and 10,000 log lines quickly and stays responsive", async () => {
    const host = tempHost();
    const ids: string[] = [];
    const start = Date.now() - LINES * 100;
    for (let b = 0; b < BOTTLES; b++) {
      const identity = `agent${b}-${String(b).padStart(6, "0")}`;
      seedBottle(host, identity);
      const lines: string[] = [];
      for (let i = 0; i < LINES / BOTTLES; i++) {
        const n = b * (LINES / BOTTLES) + i;
        const denied = n % 10 === 0;
        lines.push(
          egressLine(
            denied ? `pastebin${n}.example` : "registry.npmjs.org",
            denied ? "deny" : "allow",
            new Date(start + n * 100),
          ),
        );
      }
      appendAudit(host, identity, "egress", lines);
      ids.push(`${identity}/${fileEgressRequest(host, identity, `docs${b}.example.com`)}`);
    }
    const dash = await startDashboard(host);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      // Records desktop notifications (a headless browser shows none) as if permission was given.
      await page.addInitScript(`
        window.__notes = [];
        window.Notification = class {
          static permission = "granted";
          static requestPermission() { return Promise.resolve("granted"); }
          constructor(title, options) { window.__notes.push({ title, body: options.body }); }
        };`);
      await page.goto(dash.url);
      await page
        .getByRole("table", { name: "Bottles" })
        .locator("tbody tr")
        .nth(BOTTLES - 1)
        .waitFor();
      const rendered = Number(
        await page.evaluate(
          "performance.getEntriesByName('dashboard-rendered')[0]?.startTime ?? -1",
        ),
      );
      console.log(`first render: ${Math.round(rendered)} ms after navigation start`);
      assert.ok(rendered > 0 && rendered < 1000, `first render took ${rendered} ms`);
      assert.equal(await page.title(), `(${BOTTLES}) bot-bottle dashboard`);

      await page
        .getByRole("navigation", { name: "Views" })
        .getByRole("button", { name: "Traffic" })
        .click();
      const loadStart = Date.now();
      await page.getByText(`${LINES} of ${LINES} entries`).waitFor({ timeout: 15_000 });
      console.log(
        `10,000 entries shown ${Date.now() - loadStart} ms after opening the traffic view`,
      );
      const rows = await page.locator(".vrow").count();
      console.log(`rows in the DOM: ${rows}`);
      assert.ok(rows < 100, `only the rows in view are in the DOM (${rows})`);

      const filterStart = Date.now();
      await page.getByLabel("Search").fill("pastebin");
      await page.getByText(`${LINES / 10} of ${LINES} entries`).waitFor({ timeout: 5000 });
      const filtered = Date.now() - filterStart;
      console.log(`search over 10,000 entries: ${filtered} ms`);
      assert.ok(filtered < 2000, `search took ${filtered} ms`);

      await page.getByLabel("Search").fill("");
      await page.getByLabel("Verdict").selectOption("deny");
      await page.getByText(`${LINES / 10} of ${LINES} entries`).waitFor({ timeout: 5000 });
      await page.evaluate(
        "(() => { const el = document.querySelector('.vlist'); el.scrollTop = el.scrollHeight; })()",
      );
      await page.locator(".trow", { hasText: `pastebin${LINES - 10}.example` }).waitFor();

      await page
        .getByRole("navigation", { name: "Views" })
        .getByRole("button", { name: /Requests/ })
        .click();
      assert.equal(await page.locator("tr[data-request]").count(), BOTTLES);

      // Several at once: two denied with one reason, two approved for their bottles.
      const [d1, d2, a1, a2] = ids;
      assert.ok(d1 && d2 && a1 && a2);
      await page.getByLabel(`Select ${d1}`).check();
      await page.getByLabel(`Select ${d2}`).check();
      await page.getByLabel("Deny reason").fill("not for this task");
      await page.getByRole("button", { name: "Deny 2 selected" }).click();
      await page.locator(`tr[data-request='${d2}']`).waitFor({ state: "detached" });
      await page.getByLabel(`Select ${a1}`).check();
      await page.getByLabel(`Select ${a2}`).check();
      await page.getByRole("button", { name: /Approve 2 selected/ }).click();
      await page.locator(`tr[data-request='${a2}']`).waitFor({ state: "detached" });
      for (const ref of [d1, d2, a1, a2]) {
        const [identity = "", id = ""] = ref.split("/");
        const file = path.join(requestsDir(bottlePaths(host, identity).dir), `${id}.decision.json`);
        const decision = JSON.parse(fs.readFileSync(file, "utf8")) as {
          status: string;
          note: string | null;
        };
        assert.deepEqual(
          [decision.status, decision.note],
          ref === d1 || ref === d2 ? ["denied", "not for this task"] : ["approved", null],
        );
      }
      const rules = fs.readFileSync(
        path.join(bottlePaths(host, a1.split("/")[0] ?? "").dir, "policy.json"),
        "utf8",
      );
      assert.match(rules, new RegExp(`"request_id": "${a1.split("/")[1] ?? ""}"`));

      // A new request: the title counts it and a notification names bottle, host, method, path.
      fileRequest(
        requestsDir(bottlePaths(host, "agent3-000003").dir),
        "agent3-000003",
        {
          kind: "egress",
          egress: {
            host: "api.example.org",
            ports: null,
            methods: ["POST"],
            paths: ["/v2/upload"],
          },
        },
        "to upload the report",
      );
      let notes = "[]";
      for (let tries = 0; notes === "[]" && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        notes = String(await page.evaluate("JSON.stringify(window.__notes)"));
      }
      console.log(`notification: ${notes}`);
      assert.match(notes, /agent3-000003/);
      assert.match(notes, /api\.example\.org POST \/v2\/upload/);
      assert.equal(await page.title(), `(${BOTTLES - 4 + 1}) bot-bottle dashboard`);
    } finally {
      await browser.close();
      await dash.server.stop();
    }
  });
});
