/**
 * `npm run bench:git [-- --rounds N] [-- --json]`: the time a push through the git gate takes,
 * beside the same push straight to the upstream, measured in the same run.
 *
 * Builds once a deterministic local repository (seeded pseudo-random source-like text, about
 * 10 MB packed after `git gc`), starts a real sshd on loopback as the upstream and a GitGate in
 * process in front of it (dlp block, the client key's lines as own secrets, scanned in a worker
 * thread as in the sidecar, branches bench/*).
 * Each round (order alternating, after one uncounted warm-up) pushes main to a fresh empty bare
 * repository: directly over SSH, and as a bottle's git does (the upstream URL rewritten to the
 * gate), where the gate refreshes its mirror, reads the pack into a quarantine, judges and scans
 * what it adds, and pushes it upstream. Every push is checked to have landed. Prints per-round
 * times, the medians, the gate's own time for the push request (from its audit) and the part of
 * it the content checks took (first scan asked to last answered), and the ratio
 * of the medians gate / direct, against the target of at most 2x (a gated push may cost up to
 * twice a direct one). Then, the everyday case: each round also writes 3 new commits (about 20 KB
 * of new source text each) on top of main in a shared clone and pushes that tip to the same
 * upstream ref again, directly and through the gate (whose mirror the full push made); these
 * times, medians and ratio are informational, with no target. `--json` prints the same figures
 * as one JSON object (those of the second scenario under `incremental_` keys).
 */
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BackgroundScanner } from "../src/sidecar/dlp/background-scanner.js";
import type { GitAuditEntry } from "../src/sidecar/git/git-audit.js";
import { GitGate } from "../src/sidecar/git/git-gate.js";
import type { GitEnv } from "../src/sidecar/git/git-process.js";
import { baseGitEnv } from "../src/sidecar/git/git-process.js";
import { UpstreamCredentials } from "../src/sidecar/git/upstream-credentials.js";
import { startSshd } from "../test/helpers/sshd.js";
import { median } from "./median.js";

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf("--rounds");
const ROUNDS = roundsAt === -1 ? 5 : Number(argv[roundsAt + 1]);
const JSON_OUT = argv.includes("--json");
const TARGET = 2;

const gitAsync = promisify(execFile);
/** git, synchronously: for the setup and the checks, never while the gate has work to do. */
function git(args: string[], env: GitEnv, input?: string): string {
  return execFileSync("git", args, { env, input, encoding: "utf8", maxBuffer: 2 ** 28 }).trim();
}

/** mulberry32: a small seeded PRNG, so the repository is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "buffer stream window parser record value index count state option reader writer table " +
  "column format render layout widget queue event handler message request response cache entry " +
  "route branch commit object source target length offset limit total result error status " +
  "report module client server bottle gate mirror policy line chunk frame field"
).split(" ");
const PROSE = (
  "the a this that when until after before every each it keeps reads writes sends holds opens " +
  "closes returns checks moves starts stops waits for with from into and or not once"
).split(" ");

/** Lines that look like TypeScript: identifiers and comments from small vocabularies. */
function sourceText(random: () => number, lines: number): string[] {
  const pickFrom = <T>(list: readonly T[], fallback: T): T =>
    list[Math.floor(random() * list.length)] ?? fallback;
  const pick = (list: readonly string[]): string => pickFrom(list, "");
  const ident = (): string => {
    const head = pick(WORDS);
    return random() < 0.5 ? head : head + pick(WORDS).replace(/^./, (c) => c.toUpperCase());
  };
  const prose = (): string =>
    Array.from({ length: 4 + Math.floor(random() * 8) }, () => pick(PROSE.concat(WORDS))).join(" ");
  const templates = [
    () => `export function ${ident()}(${ident()}: number, ${ident()}: string) {`,
    () => `  const ${ident()} = ${ident()}.${ident()} + ${Math.floor(random() * 1000)};`,
    () => `  if (${ident()} > ${Math.floor(random() * 100)}) return ${ident()};`,
    () => `  // ${prose()}`,
    () => `  ${ident()}.${ident()}(${ident()}, "${pick(WORDS)} ${pick(WORDS)}");`,
    () => "}",
    () => "",
  ];
  return Array.from({ length: lines }, () => pickFrom(templates, () => "")());
}

/** A bare repository of 150 commits on main, written by one `git fast-import`; its pack size. */
function buildRepo(dir: string, env: GitEnv): number {
  const random = prng(20240601);
  const files = new Map<string, string[]>();
  const stream: string[] = [];
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (let c = 0; c < 150; c++) {
    const touched: string[] = [];
    for (let n = 0; n < 3; n++) {
      const file = `src/${WORDS[c % WORDS.length] ?? "x"}/file-${c}-${n}.ts`;
      files.set(file, sourceText(random, 1000 + Math.floor(random() * 600)));
      touched.push(file);
    }
    const existing = [...files.keys()];
    for (let n = 0; n < 2 && c > 0; n++) {
      const file = existing[Math.floor(random() * existing.length)] ?? "";
      const lines = files.get(file) ?? [];
      const at = Math.floor(random() * lines.length);
      lines.splice(at, 200, ...sourceText(random, 200)); // rewrites a stretch of the file
      touched.push(file);
    }
    stream.push(
      `commit refs/heads/main\ncommitter Bench <bench@example.test> ${1700000000 + c * 3600} +0000\n`,
      data(`Change ${c}: ${sourceText(random, 1)[0] ?? ""}`.trim()),
      ...touched.map(
        (f) => `M 100644 inline ${f}\n${data(`${(files.get(f) ?? []).join("\n")}\n`)}`,
      ),
    );
  }
  git(["init", "--quiet", "--bare", "-b", "main", dir], env);
  git(["--git-dir", dir, "fast-import", "--quiet"], env, stream.join(""));
  git(["--git-dir", dir, "gc", "--quiet"], env);
  const counts = git(["--git-dir", dir, "count-objects", "-v"], env);
  return Number(/^size-pack: (\d+)$/m.exec(counts)?.[1] ?? "0") * 1024;
}

const INCREMENT_COMMITS = 3;
const INCREMENT_BYTES = 20 * 1024;

/**
 * Writes INCREMENT_COMMITS commits on `branch` of `dir`, the first on top of `parent`, each adding
 * a new file of about INCREMENT_BYTES of source-like text (seeded by `round`); the branch tip.
 */
function addCommits(
  dir: string,
  env: GitEnv,
  parent: string,
  branch: string,
  round: number,
): string {
  const random = prng(20240602 + round);
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const stream: string[] = [];
  for (let c = 0; c < INCREMENT_COMMITS; c++) {
    const lines: string[] = [];
    while (Buffer.byteLength(lines.join("\n")) < INCREMENT_BYTES) {
      lines.push(...sourceText(random, 50));
    }
    const file = `src/${WORDS[(round + c) % WORDS.length] ?? "x"}/next-${round}-${c}.ts`;
    const when = 1700000000 + (150 + round * INCREMENT_COMMITS + c) * 3600;
    stream.push(
      `commit refs/heads/${branch}\ncommitter Bench <bench@example.test> ${when} +0000\n`,
      data(`Round ${round}, change ${c}: ${sourceText(random, 1)[0] ?? ""}`.trim()),
      c === 0 ? `from ${parent}\n` : "", // later commits follow the branch's new tip
      `M 100644 inline ${file}\n${data(`${lines.join("\n")}\n`)}`,
    );
  }
  git(["--git-dir", dir, "fast-import", "--quiet"], env, stream.join(""));
  return git(["--git-dir", dir, "rev-parse", `refs/heads/${branch}`], env);
}

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 3) throw new Error("--rounds must be an integer >= 3");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-git-"));
  /** Undone in reverse order, however far the run got. */
  const cleanup: (() => Promise<void> | void)[] = [];
  try {
    const hostEnv = baseGitEnv();
    const local = path.join(tmp, "local.git");
    const packBytes = buildRepo(local, hostEnv);
    const head = git(["--git-dir", local, "rev-parse", "main"], hostEnv);
    const count = ["--git-dir", local, "rev-list", "--objects", "--count", "main"];
    const objects = Number(git(count, hostEnv));
    // The incremental commits go to a clone sharing local's objects, so local stays as built.
    const next = path.join(tmp, "next.git");
    git(["clone", "--quiet", "--bare", "--shared", local, next], hostEnv);

    const sshd = await startSshd();
    cleanup.push(() => sshd.stop());
    const labels = ["warm", ...Array.from({ length: ROUNDS }, (_, i) => `r${i}`)];
    const names = labels.map((label) => `gate-${label}`);
    const credentials = new UpstreamCredentials(
      Object.fromEntries(names.map((n) => [n, sshd.knownHostsLine])),
    );
    cleanup.push(() => {
      credentials.close();
    });
    const key = fs.readFileSync(sshd.identityFile, "utf8");
    credentials.set(Object.fromEntries(names.map((n) => [n, { identityKey: key }])));
    // The sidecar's content checks: in a worker thread, as in a bottle.
    const scanner = new BackgroundScanner({
      ownSecrets: key.split("\n").filter((l) => l.length >= 40 && !l.startsWith("-----")),
    });
    cleanup.push(() => scanner.close());
    const audit: GitAuditEntry[] = [];
    /** The content checks of the current push: from the first scan asked to the last answered. */
    const checks = { first: 0, last: 0 };
    const scans: number[] = [];
    const policy = { branches: ["bench/*"], force: false, delete: false, max_size_bytes: 2 ** 30 };
    const gate = new GitGate({
      repos: names.map((name) => ({ name, upstream: sshd.url(name), push: policy })),
      mirrorDir: path.join(tmp, "mirrors"),
      upstreamEnv: (name) => credentials.env(name),
      scan: async (text, where) => {
        if (checks.first === 0) checks.first = performance.now();
        const found = await scanner.scan(text, where);
        checks.last = performance.now();
        return found;
      },
      dlp: "block",
      audit: (entry) => audit.push(entry),
    });
    await gate.listen({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => gate.stop());
    // The agent's git, as in a bottle: the upstream URLs rewritten to the gate, no ssh of its own.
    const config = path.join(tmp, "agent.gitconfig");
    const base = (n: string) => sshd.url(n).replace(/\.git$/, "");
    const rewrite = (n: string) =>
      `[url "http://127.0.0.1:${gate.address()}/${n}"]\n\tinsteadOf = ${base(n)}\n`;
    fs.writeFileSync(config, names.map(rewrite).join(""));
    const agentEnv = baseGitEnv({ HOME: tmp, GIT_CONFIG_GLOBAL: config, GIT_SSH_COMMAND: "false" });
    const directEnv = baseGitEnv({ GIT_SSH_COMMAND: sshd.sshCommand() });

    /** Each upstream's bare repository, by name. */
    const upstreams = new Map<string, string>();
    /** Pushes main to a fresh empty upstream `name`, checks that it landed; milliseconds. */
    const push = async (name: string, ref: string, env: GitEnv): Promise<number> => {
      const upstream = sshd.createBareRepo(name);
      upstreams.set(name, upstream);
      const started = performance.now();
      const args = ["--git-dir", local, "push", "--quiet", sshd.url(name), `main:${ref}`];
      await gitAsync("git", args, { env });
      const ms = performance.now() - started;
      const landed = git(["--git-dir", upstream, "rev-parse", ref], hostEnv);
      if (landed !== head) throw new Error(`${name}: upstream ${ref} is ${landed}, not ${head}`);
      return ms;
    };
    /** Pushes `branch` of the clone to the existing upstream `name`, checks it landed; ms. */
    const pushAgain = async (
      name: string,
      ref: string,
      branch: string,
      tip: string,
      env: GitEnv,
    ): Promise<number> => {
      const started = performance.now();
      const args = ["--git-dir", next, "push", "--quiet", sshd.url(name), `${branch}:${ref}`];
      await gitAsync("git", args, { env });
      const ms = performance.now() - started;
      const upstream = upstreams.get(name) ?? "";
      const landed = git(["--git-dir", upstream, "rev-parse", ref], hostEnv);
      if (landed !== tip) throw new Error(`${name}: upstream ${ref} is ${landed}, not ${tip}`);
      return ms;
    };
    const direct: number[] = [];
    const gated: number[] = [];
    const incDirect: number[] = [];
    const incGated: number[] = [];
    /** The gate's audit entries of the counted full pushes. */
    const fullPushes: GitAuditEntry[] = [];
    const kinds = [
      ["direct", direct, incDirect, directEnv] as const,
      ["gate", gated, incGated, agentEnv] as const,
    ];
    for (const [i, label] of labels.entries()) {
      const order = i % 2 === 0 ? kinds : [...kinds].reverse();
      for (const [kind, times, , env] of order) {
        checks.first = 0;
        const seen = audit.length;
        const ms = await push(`${kind}-${label}`, `refs/heads/bench/${kind}`, env);
        if (i > 0) times.push(ms); // round 0 is the warm-up
        if (i > 0 && kind === "gate") {
          scans.push(checks.last - checks.first);
          fullPushes.push(...audit.slice(seen).filter((e) => e.op === "push"));
        }
      }
      const branch = `next-${label}`;
      const tip = addCommits(next, hostEnv, head, branch, i);
      for (const [kind, , times, env] of order) {
        const ref = `refs/heads/bench/${kind}`;
        const ms = await pushAgain(`${kind}-${label}`, ref, branch, tip, env);
        if (i > 0) times.push(ms);
      }
    }
    const pushes = audit.filter((e) => e.op === "push");
    if (pushes.some((e) => e.verdict !== "allow")) throw new Error("the gate refused a push");
    const ratio = median(gated) / median(direct);
    const incRatio = median(incGated) / median(incDirect);
    const result = {
      rounds: ROUNDS,
      objects,
      pack_bytes: packBytes,
      direct_ms: direct.map(Math.round),
      gate_ms: gated.map(Math.round),
      median_direct_ms: Math.round(median(direct)),
      median_gate_ms: Math.round(median(gated)),
      /** The gate's own time for the POST (receive, judge, scan, push upstream), from its audit. */
      median_gate_receive_pack_ms: median(fullPushes.map((e) => e.duration_ms)),
      /** Of which the content checks of what it adds (first scan asked to last answered). */
      median_gate_scan_ms: Math.round(median(scans)),
      ratio: Number(ratio.toFixed(2)),
      target_ratio: TARGET,
      met: ratio <= TARGET,
      incremental_direct_ms: incDirect.map(Math.round),
      incremental_gate_ms: incGated.map(Math.round),
      incremental_median_direct_ms: Math.round(median(incDirect)),
      incremental_median_gate_ms: Math.round(median(incGated)),
      incremental_ratio: Number(incRatio.toFixed(2)),
    };
    if (JSON_OUT) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const ms = (v: number) => `${v.toFixed(0).padStart(6)} ms`;
    const mib = (packBytes / 2 ** 20).toFixed(2);
    const lines = [
      `git push of main (${objects} objects, pack ${mib} MiB) to an empty upstream, ${ROUNDS} rounds`,
      "round      direct        gate",
      ...direct.map((v, i) => `${String(i + 1).padStart(5)}  ${ms(v)}  ${ms(gated[i] ?? 0)}`),
      `median  ${ms(median(direct))}  ${ms(median(gated))}`,
      `gate's own receive-pack (audit), median: ${ms(result.median_gate_receive_pack_ms).trim()}` +
        `, of which content checks: ${ms(result.median_gate_scan_ms).trim()}`,
      `ratio gate / direct: ${ratio.toFixed(2)}x`,
      `target: at most ${TARGET}x: ${result.met ? "met" : "NOT met"}`,
      "",
      `incremental push (${INCREMENT_COMMITS} commits, ~60 KB) on top of it`,
      "round      direct        gate",
      ...incDirect.map((v, i) => `${String(i + 1).padStart(5)}  ${ms(v)}  ${ms(incGated[i] ?? 0)}`),
      `median  ${ms(median(incDirect))}  ${ms(median(incGated))}`,
      `ratio gate / direct: ${incRatio.toFixed(2)}x`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    for (const step of cleanup.reverse()) await step();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:git: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
