/**
 * The peer gateways the load bench compares with, from `bench/peers/` (its own package.json and
 * lock, exact versions, never a dependency of mcp-router): installed there with `npm ci` when
 * missing, each started as its users start it, fronting the bench's echo upstream:
 *  - mcp-hub: the same remote Streamable HTTP upstream as mcp-router (its `url` server kind), and
 *    a stdio copy of it (its `command` kind), both behind its one hub endpoint, which clients reach
 *    over SSE only;
 *  - supergateway and mcp-proxy front a command only (stdio); their clients use Streamable HTTP.
 * A peer that cannot be installed or started gives a row with the reason, not a failed run.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { connectCaller, type Endpoint } from "./drive.js";
import { descendants } from "./process-cpu.js";
import { freePort, startChild, type Child } from "./processes.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PEERS_DIR = join(here, "..", "peers");
const LOOPBACK_ONLY = join(here, "loopback-only.mjs");
export const ECHO_SERVER = join(here, "echo-server.mjs");
/** The stdio upstream, as a shell command line (supergateway takes one) and as argv. */
const ECHO_STDIO_ARGV = [process.execPath, ECHO_SERVER, "--stdio"];
const READY_MS = 60_000;

export const PEER_NAMES = ["mcp-hub", "supergateway", "mcp-proxy"] as const;
export type PeerName = (typeof PEER_NAMES)[number];

/** The processes of a target whose CPU time is counted: the gateway's own, and its upstream's. */
export interface TargetProcesses {
  gateway: number[];
  upstream: number[];
}

/** One row's target: an endpoint to load, or why there is none. */
export type Target = { name: string; setup: string; processes?: () => TargetProcesses } & ({ endpoint: Endpoint; failed?: undefined } | { endpoint?: undefined; failed: string });

export interface StartedPeer {
  targets: Target[];
  close(): Promise<void>;
}

/** Installs bench/peers with `npm ci` unless every pinned peer is there at its pinned version. */
export async function ensurePeersInstalled(log: (line: string) => void): Promise<string | undefined> {
  const wanted = JSON.parse(await readFile(join(PEERS_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const missing = Object.entries(wanted.dependencies).filter(([name, version]) => {
    const manifest = join(PEERS_DIR, "node_modules", name, "package.json");
    if (!existsSync(manifest)) return true;
    return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version !== version;
  });
  if (missing.length === 0) return undefined;
  log(`load: installing the peers (${missing.map(([n, v]) => `${n}@${v}`).join(", ")}) into bench/peers with npm ci --prefix bench/peers...`);
  try {
    await promisify(execFile)("npm", ["ci", "--prefix", PEERS_DIR, "--no-audit", "--no-fund"], { maxBuffer: 16 * 2 ** 20 });
    return undefined;
  } catch (error) {
    return `npm ci --prefix bench/peers failed: ${(error as Error).message.split("\n").slice(0, 3).join(" ")}`;
  }
}

/** `upstream`: the shared HTTP upstream, its URL and process id; `nodeFlags` go to the peer's own node (not to its upstreams), e.g. `--cpu-prof`. */
export async function startPeer(name: PeerName, upstream: { url: URL; pid: number }, nodeFlags: readonly string[] = []): Promise<StartedPeer> {
  switch (name) {
    case "mcp-hub":
      return await startMcpHub(upstream, nodeFlags);
    case "supergateway":
      return await startSupergateway(nodeFlags);
    case "mcp-proxy":
      return await startMcpProxy(nodeFlags);
  }
}

const bin = (...path: string[]): string => join(PEERS_DIR, "node_modules", ...path);

/** A peer's own process, and the stdio upstreams it started below it. */
const stdioProcesses = (child: Child) => (): TargetProcesses => ({ gateway: [child.process.pid!], upstream: descendants(child.process.pid!) });

async function startMcpHub(upstream: { url: URL; pid: number }, nodeFlags: readonly string[]): Promise<StartedPeer> {
  const remote = { name: "mcp-hub 4.2.1 (remote upstream)", setup: "hub endpoint GET /mcp (SSE; its only client transport) -> the shared HTTP upstream as a `url` server" };
  const stdio = { name: "mcp-hub 4.2.1 (stdio upstream)", setup: "hub endpoint GET /mcp (SSE) -> one stdio echo process as a `command` server" };
  const home = await mkdtemp(join(tmpdir(), "mcp-router-bench-hub-"));
  const config = join(home, "mcp-servers.json");
  await writeFile(config, JSON.stringify({ mcpServers: { remote: { url: upstream.url.href }, stdio: { command: ECHO_STDIO_ARGV[0], args: ECHO_STDIO_ARGV.slice(1) } } }));
  const port = await freePort();
  // mcp-hub has no listen-address option: the preload binds it to 127.0.0.1. Its logs and state go under a temp HOME.
  const env = { ...process.env, HOME: home, XDG_STATE_HOME: join(home, "state"), XDG_CONFIG_HOME: join(home, "config"), XDG_DATA_HOME: join(home, "data") };
  const child = startChild(process.execPath, [...nodeFlags, "--import", LOOPBACK_ONLY, bin("mcp-hub", "dist", "cli.js"), "--port", String(port), "--config", config], { env });
  const close = async (): Promise<void> => {
    await child.stop();
    await rm(home, { recursive: true, force: true });
  };
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  try {
    // Tools are named <server>__<tool> on the hub endpoint; wait until both servers' echo is listed.
    await waitForTools(child, { url, transport: "sse", tool: "" }, ["remote__echo", "stdio__echo"]);
  } catch (error) {
    await close();
    const failed = (error as Error).message;
    return { targets: [{ ...remote, failed }, { ...stdio, failed }], close: async () => undefined };
  }
  return {
    targets: [
      { ...remote, endpoint: { url, transport: "sse", tool: "remote__echo" }, processes: () => ({ gateway: [child.process.pid!], upstream: [upstream.pid] }) },
      { ...stdio, endpoint: { url, transport: "sse", tool: "stdio__echo" }, processes: stdioProcesses(child) },
    ],
    close,
  };
}

async function startSupergateway(nodeFlags: readonly string[]): Promise<StartedPeer> {
  const target = { name: "supergateway 4.0.0 (stdio upstream)", setup: "stdio -> Streamable HTTP, --stateful: one stdio echo process per client session (its design; --stateless spawns one per request)" };
  const port = await freePort();
  const child = startChild(process.execPath, [
    ...nodeFlags,
    "--import",
    LOOPBACK_ONLY,
    bin("supergateway", "dist", "index.js"),
    "--stdio",
    ECHO_STDIO_ARGV.map(shellQuote).join(" "),
    "--outputTransport",
    "streamableHttp",
    "--stateful",
    "--port",
    String(port),
    "--logLevel",
    "none",
  ]);
  return await started(target, child, { url: new URL(`http://127.0.0.1:${port}/mcp`), transport: "streamable-http", tool: "echo" });
}

async function startMcpProxy(nodeFlags: readonly string[]): Promise<StartedPeer> {
  const target = { name: "mcp-proxy 6.7.19 (stdio upstream)", setup: "stdio -> Streamable HTTP (--server stream, defaults otherwise): one stdio echo process shared by every session" };
  const port = await freePort();
  const child = startChild(process.execPath, [...nodeFlags, bin("mcp-proxy", "dist", "bin", "mcp-proxy.mjs"), "--host", "127.0.0.1", "--port", String(port), "--server", "stream", "--", ...ECHO_STDIO_ARGV]);
  return await started(target, child, { url: new URL(`http://127.0.0.1:${port}/mcp`), transport: "streamable-http", tool: "echo" });
}

async function started(target: { name: string; setup: string }, child: Child, endpoint: Endpoint): Promise<StartedPeer> {
  try {
    await waitForTools(child, endpoint, [endpoint.tool]);
    return { targets: [{ ...target, endpoint, processes: stdioProcesses(child) }], close: () => child.stop() };
  } catch (error) {
    await child.stop();
    return { targets: [{ ...target, failed: (error as Error).message }], close: async () => undefined };
  }
}

/** Polls until a client connects and `tools/list` has every tool in `names`, echo answers, or the child exits. */
async function waitForTools(child: Child, endpoint: Endpoint, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + READY_MS;
  let last: string;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`exited (${child.process.exitCode ?? child.process.signalCode}) before it was ready: ${child.tail()}`);
    try {
      const caller = await connectCaller({ ...endpoint, tool: names[0]! });
      try {
        const listed = await caller.listTools();
        const absent = names.filter((n) => !listed.includes(n));
        if (absent.length === 0) {
          for (const tool of names) {
            const each = await connectCaller({ ...endpoint, tool });
            await each.call().finally(() => each.close());
          }
          return;
        }
        last = `tools listed: ${listed.join(", ") || "none"} (waiting for ${absent.join(", ")})`;
      } finally {
        await caller.close().catch(() => undefined);
      }
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${READY_MS / 1000} s: ${last}; output: ${child.tail()}`);
    await sleep(250);
  }
}

function shellQuote(word: string): string {
  return /^[\w./:=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
