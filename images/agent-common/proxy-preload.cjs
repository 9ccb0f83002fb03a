// Preloaded into every Node process of an agent container (NODE_OPTIONS=--require ...).
// Node's built-in fetch ignores HTTPS_PROXY; inside a bottle the egress proxy is the only way
// out, so fetch is pointed at it, through undici's EnvHttpProxyAgent (which reads HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY). undici is loaded on the first fetch only: processes that never fetch
// (the relay, most tools) pay nothing. A missing module leaves fetch as it is.
"use strict";
const original = globalThis.fetch;
if (typeof original === "function" && (process.env.HTTPS_PROXY || process.env.HTTP_PROXY)) {
  let pointed = false;
  globalThis.fetch = function fetch(...args) {
    if (!pointed) {
      pointed = true;
      try {
        const undici = require("/opt/bot-bottle/node_modules/undici");
        undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
      } catch {
        // Not a bot-bottle agent image: leave fetch as it is.
      }
    }
    return original.apply(this, args);
  };
}
