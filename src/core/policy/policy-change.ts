/**
 * Live changes to a bottle's egress policy (`bottle policy allow|deny|remove <identity> <host>`, and
 * approvals of the agent's requests), as a pure function from (policy, change) to a new policy. The
 * operator's CLI applies it, stores the result in the bottle's state and hands it to the running
 * sidecar. An allow carries its provenance (where it came from, who, when) and its scope (an
 * expiry, or `once`); the sidecar enforces both.
 */
import { commandLines, IDENTITY_SLOT } from "../command-lines.js";
import { BottleError } from "../errors.js";
import type { PlanEgressRule } from "../plan/bottle-plan.js";
import { normalizeHost, parseHostPattern } from "./domain-pattern.js";

export interface EgressRules {
  allow: PlanEgressRule[];
  deny: string[];
}

export type PolicyChange =
  | {
      kind: "allow";
      host: string;
      ports?: number[];
      methods?: string[];
      paths?: string[];
      tls: "intercept" | "passthrough";
      internal?: boolean;
      /** `operator` (the default: `bottle policy allow`) or `request` (an approved request). */
      source?: "operator" | "request";
      /** The approved request, for source `request`. */
      request_id?: string;
      /** Who adds it (`cli:<user>`). */
      added_by?: string;
      /** When (ISO); the caller passes its clock, this function has none. */
      added_at?: string;
      /** When it stops matching (ISO). */
      expires_at?: string;
      /** The first request or tunnel it lets through consumes it. */
      once?: boolean;
    }
  | { kind: "deny"; host: string }
  | { kind: "remove"; host: string };

function validHost(host: string): string {
  const parsed = parseHostPattern(host);
  if (!parsed.ok) {
    throw new BottleError("usage", `Host pattern "${host}" ${parsed.reason}.`, {
      hint: "Name a host (api.example.com), its subdomains (*.example.com) or an IP address.",
    });
  }
  return normalizeHost(host);
}

export function applyPolicyChange(rules: EgressRules, change: PolicyChange): EgressRules {
  const host = validHost(change.host);
  const allow = rules.allow.filter((rule) => rule.host !== host);
  const deny = rules.deny.filter((pattern) => pattern !== host);
  switch (change.kind) {
    case "allow":
      return {
        allow: [
          ...allow,
          {
            host,
            ports: change.ports ?? [443, 80],
            methods: change.methods?.map((m) => m.toUpperCase()) ?? null,
            paths: change.paths ?? null,
            tls: change.tls,
            internal: change.internal ?? false,
            source: change.source ?? "operator",
            request_id: change.request_id ?? null,
            added_by: change.added_by ?? null,
            added_at: change.added_at ?? null,
            expires_at: change.expires_at ?? null,
            once: change.once ?? false,
          },
        ],
        deny,
      };
    case "deny":
      return { allow, deny: [...deny, host] };
    case "remove":
      if (allow.length === rules.allow.length && deny.length === rules.deny.length) {
        throw new BottleError("usage", `No rule for ${host} in this bottle's policy.`, {
          hint: `\`${commandLines.policyList(IDENTITY_SLOT)}\` shows the rules.`,
        });
      }
      return { allow, deny };
  }
}
