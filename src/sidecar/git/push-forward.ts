/**
 * An accepted push sent upstream: over the session opened while it was judged
 * (upstream-session.ts, SSH; a pack of what the accepted tips reach, push-pack.ts) or by git push
 * (upstream-push.ts). The upstream's answer, ok or refused with its own words, is what the agent
 * gets; the mirror takes what the upstream took.
 */
import type { GateContext, GatedRepo } from "./gate-repo.js";
import { GATE } from "./gate-http.js";
import type { GitAuditEntry } from "./git-audit.js";
import { runGit } from "./git-process.js";
import type { RefUpdate } from "./push-policy.js";
import { ZERO_ID } from "./push-policy.js";
import type { Quarantine } from "./quarantine.js";
import { admitQuarantine } from "./quarantine.js";
import type { RefReport } from "./receive-pack.js";
import { pushUpstream } from "./upstream-push.js";
import type { UpstreamSession } from "./upstream-session.js";

/** Pushes accepted updates upstream; the mirror takes what the upstream took. */
export async function forwardUpstream(
  gate: GateContext,
  repo: GatedRepo,
  updates: readonly RefUpdate[],
  quarantine: Quarantine,
  session: UpstreamSession | null,
  started: number,
  extra: Pick<GitAuditEntry, "bytes" | "finding">,
  answer: (refs: RefReport[], messages: string[]) => void,
): Promise<void> {
  const result =
    (await session?.push(updates, quarantine.env)) ??
    (await pushUpstream(quarantine.env, repo.upstream, updates));
  const taken = updates.filter((u) => result.refs.find((r) => r.ref === u.ref)?.error === null);
  if (taken.length > 0) {
    admitQuarantine(repo.mirror.dir, quarantine);
    const lines = taken.map((u) =>
      u.new === ZERO_ID ? `delete ${u.ref}\n` : `update ${u.ref} ${u.new}\n`,
    );
    // The quarantine is gone by now: the refs are set with the mirror's own environment.
    await runGit(["--git-dir", repo.mirror.dir, "update-ref", "--stdin"], {
      env: gate.upstreamEnv(repo.name),
      input: Buffer.from(lines.join("")),
    });
  }
  const refused = result.refs.filter((r) => r.error !== null);
  const reason =
    refused.length === 0
      ? "pushed upstream"
      : `the upstream refused ${refused.map((r) => `${r.ref} (${r.error ?? ""})`).join(", ")}`;
  gate.audit(repo, "push", started, {
    verdict: refused.length === 0 ? "allow" : "deny",
    reason,
    refs: updates.map(({ ref, old, new: next }) => {
      const error = result.refs.find((r) => r.ref === ref)?.error ?? null;
      return { ref, old, new: next, ...(error === null ? {} : { error }) };
    }),
    ...extra,
  });
  const messages = [...result.messages];
  if (refused.length > 0) messages.push(`${GATE}: ${reason}`);
  answer(
    result.refs.map((r) => ({
      ref: r.ref,
      error: r.error === null ? null : `upstream refused: ${r.error}`,
    })),
    messages,
  );
}
