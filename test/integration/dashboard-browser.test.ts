/**
 * The dashboard in a real browser on a real running bottle: a denied request appears live in the
 * traffic view, the request it produced is approved from the page ("Allow this…" opens the
 * approve form), the rule shows with its provenance, and the agent's next request passes. Then
 * a second request is denied with a reason, and the bottle is stopped and resumed from the page.
 *
 * The upstream is one of the test's own containers, on a network the test creates with a
 * documentation subnet (TEST-NET, not an internal range), joined by the bottle's sidecar: an
 * approved rule is an ordinary (not internal) one, as an approval makes it.
 * The agent's side is curl speaking MCP to the supervise gate (127.0.0.1:3131) inside the bottle.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { mcpCall } from "../helpers/mcp-curl.js";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  docker,
  dockerSandbox,
  shellManifest,
  spawnCli,
  startDetached,
  startUpstream,
} from "../helpers/docker.js";

const curl = "curl -sS -o /dev/null -w '%{http_code}' http://other.test/";
const SUBNETS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

async function publicLookingNetwork(name: string) {
  for (const subnet of SUBNETS) {
    try {
      return await docker.createNetwork({
        Name: name,
        Labels: { "bot-bottle.test": "dashboard" },
        IPAM: { Config: [{ Subnet: subnet }] },
      });
    } catch {
      // The subnet is in use (another test's network): try the next.
    }
  }
  throw new Error("no documentation subnet is free for the test network");
}

async function shot(page: Page, name: string): Promise<void> {
  const file = screenshotPath(name);
  if (file !== undefined) await page.screenshot({ path: file });
}

async function tab(page: Page, name: RegExp): Promise<void> {
  await page.getByRole("navigation", { name: "Views" }).getByRole("button", { name }).click();
}

describe("dashboard in a real browser", () => {
  it("shows a denial live, approves its request, shows the rule's provenance, and the next request passes", async () => {
    const box = dockerSandbox(`${shellManifest()}    supervise: true\n`);
    const identity = await startDetached(box);
    const network = await publicLookingNetwork(`bot-bottle-test-dash-${identity}`);
    const upstream = await startUpstream(network.id, ["other.test"]);
    const [sidecar] = await docker.listContainers({
      filters: { label: [`bot-bottle.identity=${identity}`, "bot-bottle.role=sidecar"] },
    });
    assert.ok(sidecar !== undefined, "the bottle has a sidecar");
    await network.connect({ Container: sidecar.Id });
    const dashboard = spawnCli(["dashboard", "--no-open", "--port", "0"], box);
    let stderr = "";
    dashboard.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const browser = await launchBrowser();
    try {
      const lines = readline.createInterface({ input: dashboard.stdout });
      const url = await new Promise<string>((resolve) => lines.once("line", resolve));
      const token = new URL(url).searchParams.get("token") ?? "";
      const page = await browser.newPage();
      const started = Date.now();
      await page.goto(url);
      await page.getByRole("table", { name: "Bottles" }).getByText(identity).waitFor();
      assert.ok(Date.now() - started < 5000, "the page shows the bottle");
      assert.equal(new URL(page.url()).search, "", "the token is gone from the address bar");
      await shot(page, "bottles");

      await tab(page, /^Traffic/);
      assert.equal((await bottleExec(box, identity, curl)).stdout, "403");
      const denial = page.locator(".trow.verdict-deny", { hasText: "other.test" });
      await denial.first().waitFor({ timeout: 10_000 });
      assert.match(await denial.first().innerText(), /default-deny/);

      // The agent asks through the supervise gate.
      const asked = await mcpCall(box, identity, "request_egress", {
        host: "other.test",
        ports: [80],
        methods: ["GET"],
        reason: "the task needs the other service",
      });
      assert.equal(asked.isError, false, asked.text);
      const filed = { id: String(asked.value["request_id"]) };
      for (let tries = 0; !(await page.title()).startsWith("(1)"); tries++) {
        assert.ok(tries < 50, "the tab title counts the pending request");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // More traffic for the picture: the built-in deny list and a manifest deny rule.
      await bottleExec(
        box,
        identity,
        "curl -s -o /dev/null http://pastebin.com/raw/x; curl -s -o /dev/null http://blocked.allowed.test/admin",
      );
      await page.locator(".trow", { hasText: "blocked.allowed.test" }).first().waitFor();
      await shot(page, "traffic");

      await denial.first().getByRole("button", { name: "Allow this…" }).click();
      const dialog = page.getByRole("dialog", { name: "Approve" });
      await dialog.getByText(filed.id, { exact: false }).waitFor();
      await dialog.getByText(/Will allow other\.test ports 80, methods GET/).waitFor();
      await shot(page, "approve");
      await dialog.getByRole("button", { name: "Approve", exact: true }).click();
      await page
        .getByRole("status")
        .getByText(/Approved .* in force in the running bottle/)
        .waitFor();

      await tab(page, /^Policy/);
      await page.getByLabel("Bottle").selectOption(identity);
      const rule = page.locator("tr[data-rule='other.test']");
      await rule.waitFor();
      const provenance = await rule.innerText();
      assert.match(provenance, new RegExp(`request ${filed.id}`));
      assert.match(provenance, /by dashboard:/);
      await shot(page, "policy");

      const decided = await mcpCall(box, identity, "wait_for_decision", {
        request_id: filed.id,
        timeout_s: 5,
      });
      assert.equal(decided.value["status"], "approved", decided.text);
      assert.equal(
        (await bottleExec(box, identity, curl)).stdout,
        "200",
        "the next request passes",
      );
      await tab(page, /^Traffic/);
      await page.locator(".trow.verdict-allow", { hasText: "other.test" }).first().waitFor();

      // A second request, denied from the page with a reason the agent gets back.
      const paste = await mcpCall(box, identity, "request_egress", {
        host: "pastebin.com",
        reason: "to share a log",
      });
      const second = { id: String(paste.value["request_id"]) };
      await tab(page, /^Requests/);
      const row = page.locator(`tr[data-request='${identity}/${second.id}']`);
      await row.waitFor();
      await shot(page, "requests");
      await page.getByLabel("Deny reason").fill("no paste sites");
      await row.getByRole("button", { name: "Deny" }).click();
      await page
        .getByRole("status")
        .getByText(/Denied/)
        .waitFor();
      const decision = JSON.parse(
        fs.readFileSync(
          path.join(
            box.home,
            ".bot-bottle",
            "state",
            identity,
            "requests",
            `${second.id}.decision.json`,
          ),
          "utf8",
        ),
      ) as { status: string; note: string };
      assert.deepEqual([decision.status, decision.note], ["denied", "no paste sites"]);
      const refused = await mcpCall(box, identity, "wait_for_decision", {
        request_id: second.id,
        timeout_s: 5,
      });
      assert.equal(refused.value["status"], "denied", refused.text);
      assert.match(refused.text, /no paste sites/);

      // Stop and resume from the page; the approved rule survives.
      await tab(page, /^Bottles/);
      page.once("dialog", (d) => void d.accept());
      await page.getByRole("button", { name: `Stop ${identity}` }).click();
      await page.getByRole("button", { name: `Resume ${identity}` }).waitFor({ timeout: 180_000 });
      await page.getByRole("button", { name: `Resume ${identity}` }).click();
      await page.getByRole("button", { name: `Stop ${identity}` }).waitFor({ timeout: 300_000 });
      const [again] = await docker.listContainers({
        filters: { label: [`bot-bottle.identity=${identity}`, "bot-bottle.role=sidecar"] },
      });
      assert.ok(again !== undefined);
      await network.connect({ Container: again.Id });
      assert.equal(
        (await bottleExec(box, identity, curl)).stdout,
        "200",
        "the rule survived resume",
      );

      assert.ok(!stderr.includes(token), "the dashboard's log never shows the token");
    } finally {
      await browser.close();
      dashboard.kill("SIGTERM");
      await cliProcess(["stop", identity], box, {}, 180_000);
      await upstream.remove();
      await network.remove().catch(() => undefined);
    }
  });
});
