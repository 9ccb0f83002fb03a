/**
 * What differs between agent programs. Plain data: the plan reads it, the backend builds and runs
 * what it names. Adding a provider is adding one entry here and an image recipe under images/.
 */
import type { Provider } from "../manifest/schema.js";
import type { PlanEgressRule } from "./bottle-plan.js";

export interface ProviderSpec {
  name: Provider;
  /** Human name for summaries. */
  title: string;
  /** Image recipe folder under images/ in this package. */
  recipe: string;
  /** The agent program and its arguments. */
  command: readonly string[];
  /** Arguments that append the agent's prompt to the program's system prompt. */
  promptArgs: ((prompt: string) => string[]) | undefined;
  /** Arguments that continue the last conversation when a stopped bottle is resumed. */
  resumeArgs: readonly string[];
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
    resumeArgs: ["--continue"],
    modelRole: "anthropic-base-url",
    egress: [],
  },
  codex: {
    name: "codex",
    title: "OpenAI Codex CLI",
    recipe: "agent-codex",
    command: ["codex"],
    promptArgs: undefined,
    resumeArgs: ["resume", "--last"],
    modelRole: "openai-base-url",
    egress: [],
  },
  shell: {
    name: "shell",
    title: "interactive shell",
    recipe: "agent-shell",
    command: ["bash", "-l"],
    promptArgs: undefined,
    resumeArgs: [],
    modelRole: undefined,
    egress: [],
  },
};

export function providerSpec(name: Provider): ProviderSpec {
  return PROVIDERS[name];
}
