/**
 * The two documents the secret keeper's process reads, checked without a schema library: that
 * process lives as long as its bottle, one per bottle, and loading zod costs it about 8 MB of
 * memory (measured by `npm run bench:density`). The checks are as strict as contract.ts's schemas
 * on what the keeper uses; the sidecar still parses the secrets with the full schema when they
 * arrive (PUT /secrets).
 */
import type { HealthState, SidecarSecrets } from "./contract.js";
import { HEALTH_STATES } from "./health-states.js";

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isNonEmpty = (value: unknown): value is string => typeof value === "string" && value !== "";

/**
 * The state of a health report (GET /health), or undefined when it is not one: `ok` must be a
 * boolean that agrees with the state (true exactly when ready) and `state` a known one.
 */
export function healthStateOf(report: unknown): HealthState | undefined {
  if (!isRecord(report) || typeof report["ok"] !== "boolean") return undefined;
  const state = HEALTH_STATES.find((s) => s === report["state"]);
  if (state === undefined || report["ok"] !== (state === "ready")) return undefined;
  return state;
}

/**
 * The secrets handed to the keeper (what sidecarSecretsSchema accepts: credentials as non-empty
 * names to non-empty tokens, git entries with an optional non-empty key and token, nothing else).
 */
export function isSidecarSecrets(value: unknown): value is SidecarSecrets {
  if (!isRecord(value) || Object.keys(value).some((k) => k !== "credentials" && k !== "git")) {
    return false;
  }
  const { credentials, git } = value;
  if (!isRecord(credentials) || !isRecord(git)) return false;
  const credentialsOk = Object.entries(credentials).every(
    ([name, token]) => name !== "" && isNonEmpty(token),
  );
  const gitOk = Object.entries(git).every(
    ([name, entry]) =>
      name !== "" &&
      isRecord(entry) &&
      Object.entries(entry).every(
        ([key, v]) => (key === "identityKey" || key === "token") && isNonEmpty(v),
      ),
  );
  return credentialsOk && gitOk;
}
