/**
 * What the agent holds in place of real credentials. The credential proxy swaps in the real token;
 * the content checks never count these as secrets. Shaped like the real thing so that programs
 * that check a key's format accept them.
 */
export const PLACEHOLDER_KEY = "sk-ant-api03-placeholder-held-by-bot-bottle-0000000000";
export const TOKEN_PLACEHOLDER = "placeholder-held-by-bot-bottle";
