/**
 * `--cwd` of a repository whose remotes name the bottle's git entries: the workspace copy's
 * `.git/config` gets those remotes set to the entries' upstream URLs (any push URL dropped), so
 * the agent's fetch and push go through the git gate. The host's repository is never changed:
 * git edits a temporary copy of its config, and the result replaces the copied file.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BottlePlan } from "../../core/plan/bottle-plan.js";
import { WORKSPACE_DIR } from "../../core/plan/layout.js";
import type { ProvisionFile } from "../../providers/provision.js";

export function workspaceGitConfig(plan: BottlePlan): ProvisionFile | undefined {
  const { copy_from: from, remotes } = plan.workspace;
  if (from === null || remotes.length === 0) return undefined;
  const config = path.join(from, ".git", "config");
  if (!fs.existsSync(config)) return undefined;
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "bot-bottle-gitconfig-"));
  try {
    const copy = path.join(temp, "config");
    fs.copyFileSync(config, copy);
    const git = (...args: string[]): void => {
      execFileSync("git", ["config", "--file", copy, ...args], { stdio: "ignore" });
    };
    for (const { remote, url } of remotes) {
      git(`remote.${remote}.url`, url);
      try {
        git("--unset-all", `remote.${remote}.pushurl`);
      } catch {
        // No push URL: nothing to drop.
      }
    }
    return {
      path: `${WORKSPACE_DIR}/.git/config`,
      content: fs.readFileSync(copy, "utf8"),
      mode: 0o644,
    };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}
