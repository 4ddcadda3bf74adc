/* global process, console, setTimeout */
// A dependency-free MCP server (newline-delimited JSON-RPC on stdio) that reports on the
// container it runs in: the tests check hardening by behaviour through its tools.
import { spawn } from "node:child_process";
import { lookup } from "node:dns/promises";
import { writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { createInterface } from "node:readline";

const tools = ["echo", "whoami", "write", "env", "net", "forkbomb", "crash", "sleep"].map((name) => ({
  name,
  description: `probe: ${name}`,
  inputSchema: { type: "object" },
}));

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function text(value) {
  return { content: [{ type: "text", text: typeof value === "string" ? value : JSON.stringify(value) }] };
}

async function forkbomb(max) {
  const children = [];
  let error = null;
  for (let i = 0; i < max; i++) {
    try {
      const child = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
      const failed = await new Promise((resolve) => {
        child.once("spawn", () => resolve(null));
        child.once("error", (e) => resolve(e));
      });
      if (failed) {
        error = failed.code ?? String(failed);
        break;
      }
      children.push(child);
    } catch (e) {
      error = e.code ?? String(e);
      break;
    }
  }
  const spawned = children.length;
  for (const child of children) child.kill("SIGKILL");
  return { spawned, error };
}

async function call(name, args) {
  switch (name) {
    case "echo":
      return text(String(args.text ?? ""));
    case "whoami":
      return text({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() });
    case "write":
      try {
        writeFileSync(args.path, "x");
        return text({ ok: true });
      } catch (e) {
        return text({ ok: false, code: e.code });
      }
    case "env":
      return text(process.env);
    case "net": {
      let dns;
      try {
        await lookup(String(args.host ?? "registry.npmjs.org"));
        dns = "resolved";
      } catch (e) {
        dns = e.code ?? "error";
      }
      return text({ interfaces: Object.keys(networkInterfaces()), dns });
    }
    case "forkbomb":
      return text(await forkbomb(Number(args.max ?? 1000)));
    case "crash":
      console.error("probe: about to crash on purpose");
      console.error(`probe: exit code will be ${args.code ?? 3}`);
      setTimeout(() => process.exit(Number(args.code ?? 3)), 20);
      return new Promise(() => undefined);
    case "sleep":
      await new Promise((r) => setTimeout(r, Number(args.ms ?? 60000)));
      return text("slept");
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
      result = { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "probe", version: "1.0.0" } };
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
