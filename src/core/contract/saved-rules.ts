/** policy.json, read by the host (policy-store.ts) and by the sidecar at start: one parser. */
import type { EgressRules } from "../policy/policy-change.js";
import { egressRulesSchema, parseContract } from "./contract.js";

export const POLICY_FILE = "policy.json";

/** Parses the text of a saved policy; throws naming `file` when it is not valid JSON or rules. */
export function parseSavedRules(text: string, file: string): EgressRules {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  return parseContract(egressRulesSchema, value, file);
}
