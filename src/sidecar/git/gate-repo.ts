/**
 * A repository the git gate serves, and what its handlers share: the mirror, the upstream's
 * environment, the audit.
 */
import type { DlpMode } from "../shared/content-inspector.js";
import type { ContentScanner } from "./added-content.js";
import type { GitAuditEntry } from "./git-audit.js";
import type { GitMirror } from "./git-mirror.js";
import type { GitEnv } from "./git-process.js";
import type { PushPolicy } from "./push-policy.js";

export interface GitGateRepo {
  name: string;
  upstream: string;
  push: PushPolicy;
}

export interface GatedRepo extends GitGateRepo {
  mirror: GitMirror;
}

/** What the fetch and push handlers need of the gate. */
export interface GateContext {
  /** git's environment to reach a repo's upstream (key, known hosts, token). */
  upstreamEnv: (repo: string) => GitEnv;
  /** Content checks of what a push adds. */
  scan: ContentScanner;
  dlp: DlpMode;
  audit: (
    repo: GatedRepo,
    op: GitAuditEntry["op"],
    started: number,
    entry: Pick<GitAuditEntry, "verdict" | "reason" | "refs"> & Partial<GitAuditEntry>,
  ) => void;
}
