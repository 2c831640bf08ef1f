// Preloaded into an app by `NODE_OPTIONS=--require=...` (printed by `molar-clones proxy`). Node's
// own proxy support (NODE_USE_ENV_PROXY) covers fetch and the global agents, but not an Agent a
// library makes itself (stripe-node does): requests that bring such an agent get one of Node's
// proxy-aware agents instead. global-agent would do this, but its 4.x loses TLS SNI on Node 24.
const http = require("node:http");
const https = require("node:https");

const agents = new Map([
  [http, new http.Agent({ keepAlive: true, proxyEnv: process.env })],
  [https, new https.Agent({ keepAlive: true, proxyEnv: process.env })],
]);

for (const [mod, agent] of agents) {
  for (const name of ["request", "get"]) {
    const original = mod[name];
    mod[name] = function (...args) {
      const i = args.findIndex((a) => a !== null && typeof a === "object" && !(a instanceof URL));
      if (i >= 0 && args[i].agent !== false) args[i] = { ...args[i], agent };
      else if (i < 0) args.splice(typeof args[0] === "function" ? 0 : 1, 0, { agent });
      return original.apply(this, args);
    };
  }
}
