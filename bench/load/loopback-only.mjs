// Preloaded (`node --import`) into a peer that has no option for its listening address
// (mcp-hub listens on every interface): a port-only listen binds 127.0.0.1, so the load bench
// stays on loopback. Everything else about the peer is as its users run it.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  else if (args[0] && typeof args[0] === "object" && args[0].host === undefined && args[0].path === undefined) args[0] = { ...args[0], host: "127.0.0.1" };
  return listen.apply(this, args);
};
