/** What each agent program needs: pure data, kept in core (src/core/plan/provider-spec.ts). */
export type { ProviderSpec } from "../core/plan/provider-spec.js";
export { providerSpec } from "../core/plan/provider-spec.js";
