/**
 * `npm run test:corpus [-- DIR] [--json]`: replays the egress attack corpus (../shared/egress-corpus,
 * or DIR in the same format: cases/<category>/*.json) through the real egress proxy, with the
 * real content checks and TLS interception under a fresh bottle CA.
 *
 * The policy allows every host name in the corpus (so that content checks alone decide), every
 * name resolves to 127.0.0.1, and the proxy's dialler sends port 443 and 80 to a local upstream's
 * HTTPS and HTTP ports. IP literals get no rule: they are judged as the gate judges them.
 *
 * Prints, per category, malicious blocked / total and benign allowed / total, then the misses;
 * with --json the same as JSON with one verdict per case id. Exits 1 when a benign case is
 * blocked or fewer than 90% of malicious cases are blocked.
 */
import path from "node:path";
import { packageRoot } from "../src/core/host/package-root.js";
import { runCorpus } from "./corpus/run-corpus.js";

const TARGET_BLOCKED = 0.9;

interface Tally {
  malicious: number;
  blocked: number;
  benign: number;
  allowed: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const dir = path.resolve(
    args.find((a) => !a.startsWith("--")) ??
      path.join(packageRoot(), "..", "shared", "egress-corpus"),
  );
  const results = await runCorpus(dir);

  const tallies = new Map<string, Tally>();
  for (const r of results) {
    const t = tallies.get(r.category) ?? { malicious: 0, blocked: 0, benign: 0, allowed: 0 };
    if (r.expected === "block") {
      t.malicious += 1;
      if (r.verdict === "block") t.blocked += 1;
    } else {
      t.benign += 1;
      if (r.verdict === "allow") t.allowed += 1;
    }
    tallies.set(r.category, t);
  }
  const total = [...tallies.values()].reduce(
    (sum, t) => ({
      malicious: sum.malicious + t.malicious,
      blocked: sum.blocked + t.blocked,
      benign: sum.benign + t.benign,
      allowed: sum.allowed + t.allowed,
    }),
    { malicious: 0, blocked: 0, benign: 0, allowed: 0 },
  );
  const misses = results.filter((r) => r.verdict !== r.expected);
  const passed =
    total.allowed === total.benign &&
    (total.malicious === 0 || total.blocked / total.malicious >= TARGET_BLOCKED);

  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          corpus: dir,
          categories: Object.fromEntries(tallies),
          total,
          passed,
          cases: Object.fromEntries(results.map((r) => [r.id, r.verdict])),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    const lines = [`egress corpus: ${dir} (${results.length} cases)`, ""];
    lines.push(`${"category".padEnd(24)} malicious blocked   benign allowed`);
    const row = (name: string, t: Tally): string =>
      `${name.padEnd(24)} ${`${t.blocked}/${t.malicious}`.padStart(17)}   ${`${t.allowed}/${t.benign}`.padStart(14)}`;
    for (const [category, t] of tallies) lines.push(row(category, t));
    lines.push(row("total", total), "");
    if (misses.length === 0) lines.push("misses: none");
    for (const m of misses)
      lines.push(`miss: ${m.id} (${m.category}): expected ${m.expected}, got ${m.verdict}`);
    lines.push(
      passed
        ? "target met: every benign case allowed, at least 90% of malicious cases blocked"
        : "target NOT met: every benign case must be allowed and at least 90% of malicious cases blocked",
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  process.exitCode = passed ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`test:corpus: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
