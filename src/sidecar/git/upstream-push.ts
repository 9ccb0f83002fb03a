/**
 * Forwards an accepted push to the upstream with `git push --porcelain` from the quarantine
 * (the pushed objects are visible there), and reads back what the upstream did with each ref.
 *
 * Every update is sent with `--force-with-lease` on the old id the agent saw (none: the ref must
 * not exist), so the gate never overwrites upstream work the agent did not know about, and git
 * sends nothing for a ref the upstream has moved (it would refuse it only after taking the pack). Lines the upstream printed
 * (`remote: ...`, e.g. from a pre-receive hook) are kept to show the agent.
 */
import type { GitEnv } from "./git-process.js";
import { gitComplaint, runGit } from "./git-process.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { RefReport } from "./receive-pack.js";

export interface UpstreamPushResult {
  /** Per ref: null when the upstream took it, else its words. */
  refs: RefReport[];
  /** What the upstream said (`remote:` lines, without the prefix). */
  messages: string[];
}

/** The arguments after `git push --porcelain <url>`, PURE. */
export function pushArguments(updates: readonly RefUpdate[]): string[] {
  const leases: string[] = [];
  const specs: string[] = [];
  for (const update of updates) {
    leases.push(`--force-with-lease=${update.ref}:${update.old === ZERO_ID ? "" : update.old}`);
    if (update.new === ZERO_ID) {
      specs.push(`:${update.ref}`);
    } else if (!update.fastForward) {
      specs.push(`+${update.new}:${update.ref}`);
    } else {
      specs.push(`${update.new}:${update.ref}`);
    }
  }
  return [...leases, "--", ...specs];
}

/** Reads `git push --porcelain` output into per-ref results, PURE. */
export function parsePorcelain(stdout: string): Map<string, RefReport> {
  const results = new Map<string, RefReport>();
  for (const line of stdout.split("\n")) {
    const [flag, refs, summary = ""] = line.split("\t");
    if (flag === undefined || refs === undefined || flag.length !== 1) continue;
    const ref = refs.slice(refs.indexOf(":") + 1);
    // A rejection reads `[remote rejected] (pre-receive hook declined)`: the words in parentheses.
    const error = flag === "!" ? (/\((.*)\)$/.exec(summary)?.[1] ?? summary) : null;
    results.set(ref, { ref, error });
  }
  return results;
}

export async function pushUpstream(
  env: GitEnv,
  upstream: string,
  updates: readonly RefUpdate[],
): Promise<UpstreamPushResult> {
  const result = await runGit(["push", "--porcelain", upstream, ...pushArguments(updates)], {
    env,
  });
  const messages = result.stderr
    .split("\n")
    .filter((line) => line.startsWith("remote: "))
    .map((line) => line.slice("remote: ".length).trimEnd());
  const parsed = parsePorcelain(result.stdout.toString("utf8"));
  const failure = result.code === 0 ? null : gitComplaint(result.stderr);
  const refs = updates.map(
    (update) =>
      parsed.get(update.ref) ?? {
        ref: update.ref,
        error: failure ?? "the upstream did not report on this ref",
      },
  );
  return { refs, messages };
}
