/** The states a sidecar's health report can say (GET /health); shared by contract.ts and the keeper. */
export const HEALTH_STATES = ["ready", "degraded: waiting for secrets"] as const;
