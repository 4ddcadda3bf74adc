/* global process, console, setTimeout, clearTimeout */
// The reliability suite's MCP server (newline-delimited JSON-RPC on stdio, no dependencies): it
// can hang, crash, leak its secret into stderr or an error, and probe the network it was given.
import { lookup } from "node:dns/promises";
import { connect } from "node:net";
import { createInterface } from "node:readline";

const tools = ["echo", "hang", "crash", "fail", "connect", "dns"].map((name) => ({
  name,
  description: `reliability probe: ${name}`,
  inputSchema: { type: "object" },
}));

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function text(value) {
  return { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }] };
}

/** TCP connect to host:port; on success reads the server's first line (proof it was that server). */
function tcp(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = "";
    const done = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, error: "TIMEOUT" }), timeoutMs);
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      if (data.includes("\n")) done({ ok: true, greeting: data.trim() });
    });
    socket.on("error", (e) => done({ ok: false, error: e.code ?? String(e) }));
  });
}

async function call(name, args) {
  switch (name) {
    case "echo":
      return text(String(args.text ?? ""));
    case "hang":
      return new Promise(() => undefined);
    case "crash":
      // Real servers print their config when they die; the gateway must not pass secrets on.
      console.error(`probe: dying, token was ${process.env.PROBE_TOKEN ?? "-"} / ${process.env.PROBE_ENV_TOKEN ?? "-"}`);
      setTimeout(() => process.exit(Number(args.code ?? 3)), 20);
      return new Promise(() => undefined);
    case "fail":
      throw new Error(`upstream API refused token ${process.env.PROBE_TOKEN ?? "-"}`);
    case "connect":
      return text(await tcp(String(args.host), Number(args.port), Number(args.timeoutMs ?? 3000)));
    case "dns":
      try {
        await lookup(String(args.host ?? "localhost.invalid"));
        return text({ resolved: true });
      } catch (e) {
        return text({ resolved: false, error: e.code ?? "error" });
      }
    default:
      throw Object.assign(new Error(`unknown tool ${name}`), { rpc: -32602 });
  }
}

createInterface({ input: process.stdin }).on("line", async (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  if (msg.id === undefined) return;
  try {
    let result;
    if (msg.method === "initialize") {
      // A server that never finishes starting.
      if (process.env.PROBE_HANG_INIT === "1") return;
      result = { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "reliability-probe", version: "1.0.0" } };
    } else if (msg.method === "ping") {
      result = {};
    } else if (msg.method === "tools/list") {
      result = { tools };
    } else if (msg.method === "tools/call") {
      result = await call(msg.params.name, msg.params.arguments ?? {});
    } else {
      send({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: `method not found: ${msg.method}` } });
      return;
    }
    send({ jsonrpc: "2.0", id: msg.id, result });
  } catch (e) {
    send({ jsonrpc: "2.0", id: msg.id, error: { code: e.rpc ?? -32603, message: String(e.message ?? e) } });
  }
});
process.stdin.on("end", () => process.exit(0));
