// Preloaded into every Node process of an agent container (NODE_OPTIONS=--require ...).
// Node's built-in fetch ignores HTTPS_PROXY; inside a bottle the egress proxy is the only way
// out, so fetch is pointed at it (through undici's EnvHttpProxyAgent, which reads HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY). A missing module must not stop the process: the preload does nothing.
"use strict";
try {
  const { EnvHttpProxyAgent, setGlobalDispatcher } = require("/opt/bot-bottle/node_modules/undici");
  if (process.env.HTTPS_PROXY || process.env.HTTP_PROXY)
    setGlobalDispatcher(new EnvHttpProxyAgent());
} catch {
  // Not a bot-bottle agent image: leave fetch as it is.
}
