/**
 * What differs between agent programs. Plain data: the plan reads it, the backend builds and runs
 * what it names. Adding a provider is adding one entry here and an image recipe under images/.
 */
import type { Provider } from "../manifest/schema.js";
import type { PlanEgressRule } from "./bottle-plan.js";
import { AGENT_HOME, WORKSPACE_DIR } from "./layout.js";

export interface ProviderSpec {
  name: Provider;
  /** Human name for summaries. */
  title: string;
  /** Image recipe folder under images/ in this package. */
  recipe: string;
  /** The agent program and its arguments. */
  command: readonly string[];
  /**
   * Arguments that append the agent's prompt to the program's system prompt. A program without
   * them reads the prompt from a file that provisioning writes (Codex: `~/.codex/AGENTS.md`).
   */
  promptArgs: ((prompt: string) => string[]) | undefined;
  /** Where the program looks for skills, under the agent's home (one folder per skill). */
  skillsDir: string;
  /** Arguments that continue the last conversation when a stopped bottle is resumed. */
  resumeArgs: readonly string[];
  /**
   * A command (run in the agent container as the agent, in the workspace) that exits 0 when the
   * agent's home holds a conversation to continue: `bottle attach` then continues it (after a
   * resume or an image-change restart) instead of starting a new one. None: attach starts fresh.
   */
  conversationProbe: readonly string[] | undefined;
  /** The credential role through which the program reaches its model, if it has one. */
  modelRole: "anthropic-base-url" | "openai-base-url" | undefined;
  /**
   * Hosts the program itself needs besides its model route. Model APIs are deliberately absent:
   * they are reached only through credential routes, because allowing, say, api.anthropic.com
   * directly would let the agent send data there under a key of someone else's choosing.
   */
  egress: readonly Pick<
    PlanEgressRule,
    "host" | "ports" | "methods" | "paths" | "tls" | "internal"
  >[];
}

const PROVIDERS: Record<Provider, ProviderSpec> = {
  claude: {
    name: "claude",
    title: "Claude Code",
    recipe: "agent-claude",
    command: ["claude"],
    promptArgs: (prompt) => ["--append-system-prompt", prompt],
    skillsDir: ".claude/skills",
    resumeArgs: ["--continue"],
    // Claude Code keeps each conversation as ~/.claude/projects/<cwd with / as ->/<id>.jsonl.
    conversationProbe: [
      "sh",
      "-c",
      `ls ${AGENT_HOME}/.claude/projects/${WORKSPACE_DIR.replaceAll("/", "-")}/*.jsonl`,
    ],
    modelRole: "anthropic-base-url",
    egress: [],
  },
  codex: {
    name: "codex",
    title: "OpenAI Codex CLI",
    recipe: "agent-codex",
    // No shared background server: it would copy a 400 MB release into ~/.codex (saved with the
    // home on every stop) and run two more processes in the bottle's memory.
    command: ["codex", "--no-daemon"],
    promptArgs: undefined,
    skillsDir: ".codex/skills",
    resumeArgs: ["resume", "--last"],
    conversationProbe: [
      "sh",
      "-c",
      `find ${AGENT_HOME}/.codex/sessions -name 'rollout-*.jsonl' 2>/dev/null | grep -q .`,
    ],
    modelRole: "openai-base-url",
    egress: [],
  },
  shell: {
    name: "shell",
    title: "interactive shell",
    recipe: "agent-shell",
    command: ["bash", "-l"],
    promptArgs: undefined,
    skillsDir: ".claude/skills",
    resumeArgs: [],
    conversationProbe: undefined,
    modelRole: undefined,
    egress: [],
  },
};

export function providerSpec(name: Provider): ProviderSpec {
  return PROVIDERS[name];
}
