/* global process, console, setTimeout, clearTimeout, URL, Buffer */
// A dependency-free MCP server (newline-delimited JSON-RPC on stdio) that reports on the
// container it runs in: the tests check hardening by behaviour through its tools.
import { spawn } from "node:child_process";
import { lookup } from "node:dns/promises";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { createInterface } from "node:readline";

const tools = ["echo", "whoami", "write", "env", "net", "http", "forkbomb", "crash", "sleep"].map((name) => ({
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

/** Sends `request` on a fresh TCP connection and resolves with the status of the first response. */
function exchange(host, port, request, onHead) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let buffer = "";
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish({ error: "TIMEOUT" }), 5000);
    socket.once("connect", () => socket.write(request));
    socket.on("error", (e) => finish({ error: e.code ?? String(e) }));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(buffer)?.[1] ?? 0);
      const body = buffer.slice(end + 4);
      if (onHead && status === 200) {
        // CONNECT established: speak to the target through the tunnel.
        buffer = "";
        const next = onHead;
        onHead = undefined;
        socket.write(next);
        return;
      }
      finish({ status, body });
    });
    socket.on("close", () => finish({ error: "CLOSED" }));
  });
}

/**
 * An HTTP GET of args.url: directly, or through $HTTP_PROXY with CONNECT (mode "connect") or an
 * absolute-form request (mode "forward"); args.auth false leaves the proxy credentials out.
 */
async function http(args) {
  const url = new URL(String(args.url));
  const port = Number(url.port || 80);
  const get = (target) => `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n`;
  if (args.via === "direct") return exchange(url.hostname, port, `${get(url.pathname)}\r\n`);
  const proxy = new URL(process.env.HTTP_PROXY ?? "http://no-proxy-configured:1");
  const auth = args.auth === false ? "" : `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")}\r\n`;
  if (args.via === "forward") return exchange(proxy.hostname, Number(proxy.port), `${get(url.href)}${auth}\r\n`);
  return exchange(proxy.hostname, Number(proxy.port), `CONNECT ${url.hostname}:${port} HTTP/1.1\r\nHost: ${url.hostname}:${port}\r\n${auth}\r\n`, `${get(url.pathname)}\r\n`);
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
    case "http":
      return text(await http(args));
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
