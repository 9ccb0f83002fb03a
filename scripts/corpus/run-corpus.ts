/**
 * Replays a corpus folder through a real egress proxy (see test-corpus.ts for the set-up) and
 * returns one verdict per case.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { PlanEgressRule } from "../../src/core/plan/bottle-plan.js";
import { PLAN_RULE_PROVENANCE } from "../../src/core/plan/bottle-plan.js";
import { createBottleCa } from "../../src/core/tls/bottle-ca.js";
import { BUILTIN_DENY } from "../../src/core/policy/builtin-deny.js";
import { decideEgress } from "../../src/sidecar/egress/egress-policy.js";
import { EgressProxy } from "../../src/sidecar/egress/egress-proxy.js";
import { readIpLiteral } from "../../src/sidecar/egress/ip-address.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { startLocalUpstream } from "./local-upstream.js";
import type { CorpusCase, Verdict } from "./replay-case.js";
import { replayCase } from "./replay-case.js";

export interface CaseResult {
  id: string;
  category: string;
  expected: Verdict;
  verdict: Verdict | "error";
}

export function readCases(dir: string): CorpusCase[] {
  const root = path.join(dir, "cases");
  if (!fs.existsSync(root)) {
    throw new Error(`no corpus at ${dir} (expected ${root}/<category>/*.json)`);
  }
  const cases: CorpusCase[] = [];
  for (const category of fs.readdirSync(root).sort()) {
    const folder = path.join(root, category);
    if (!fs.statSync(folder).isDirectory()) continue;
    for (const file of fs.readdirSync(folder).sort()) {
      if (file.endsWith(".json")) {
        cases.push(JSON.parse(fs.readFileSync(path.join(folder, file), "utf8")) as CorpusCase);
      }
    }
  }
  return cases;
}

function ruleFor(host: string): PlanEgressRule {
  return {
    host,
    ports: [443, 80],
    methods: null,
    paths: null,
    tls: "intercept",
    internal: true,
    source: "corpus",
    ...PLAN_RULE_PROVENANCE,
  };
}

export async function runCorpus(dir: string): Promise<CaseResult[]> {
  const cases = readCases(dir);
  const names = new Set<string>();
  for (const c of cases) {
    const host = new URL(c.payload.url.replace(/^ws/, "http")).hostname.toLowerCase();
    if (readIpLiteral(host.replace(/^\[|\]$/g, "")) === null) names.add(host);
  }
  // As a bottle has it: the built-in deny list, plus any blocklist a case says to configure.
  const deny = new Set<string>(BUILTIN_DENY);
  for (const c of cases)
    for (const host of [...(c.setup?.deny ?? []), ...(c.setup?.blocklist ?? [])])
      deny.add(host.toLowerCase());
  const policy = { allow: [...names].map(ruleFor), deny: [...deny] };

  const bottleCa = await createBottleCa("corpus");
  const upstreamCa = await createBottleCa("corpus-upstream");
  const upstream = await startLocalUpstream(upstreamCa);
  const proxy = new EgressProxy({
    decide: (request) => decideEgress(policy, request),
    audit: (entry) => {
      if (process.env["CORPUS_DEBUG"] !== undefined && entry.verdict === "deny") {
        process.stderr.write(
          `  denied ${entry.kind} ${entry.host}${entry.path ?? ""}: ${entry.rule ?? ""}\n`,
        );
      }
    },
    ca: bottleCa,
    upstreamCa: [upstreamCa.certPem],
    inspector: new DlpInspector({ ownSecrets: [] }),
    resolve: () => Promise.resolve(["127.0.0.1"]),
    dial: (address, port) =>
      net.connect(
        port === 443 ? upstream.httpsPort : port === 80 ? upstream.httpPort : port,
        address,
      ),
  });
  await proxy.listen({ host: "127.0.0.1", port: 0 });

  const results: CaseResult[] = [];
  try {
    for (const c of cases) {
      let verdict: Verdict | "error";
      try {
        verdict = await replayCase(c, proxy.address(), bottleCa.certPem, upstream);
      } catch (error) {
        if (process.env["CORPUS_DEBUG"] !== undefined)
          process.stderr.write(`${c.id}: ${String(error)}\n`);
        verdict = "error";
      }
      results.push({ id: c.id, category: c.category, expected: c.expected_verdict, verdict });
    }
  } finally {
    await proxy.stop();
    await upstream.close();
  }

  return results;
}
