/**
 * Gateway benchmark (issue 4):
 *  (a) call overhead: `everything__echo` through the gateway (Streamable HTTP on loopback, the
 *      SDK client; metrics and audit log on, as `serve` runs) to a `shared` server-everything container, vs a direct SDK client on the
 *      same kind of container (a lease's client, no gateway): p50 difference.
 *  (b) `tools/list` over a registry of 100 servers (10 tools each) through the gateway: p50,
 *      and no container started.
 *  (c) idle RSS of `mcp-router serve` with those 100 servers configured (the real CLI as a child),
 *      read once its table is applied and it has been quiet for 30 s.
 * Run alone: `npx tsx bench/gateway.ts`.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import Docker from "dockerode";
import { pino } from "pino";
import type { Daemon } from "../src/daemon/start-daemon.js";
import { startDaemon } from "../src/daemon/start-daemon.js";
import { toolCall } from "../src/launch/call-tool.js";
import { DockerLauncher } from "../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import type { RegistryServer } from "../src/registry/types.js";
import { ensureTestImages, listOurContainers, testDataDir } from "../test/support/docker.js";
import { npmPackage, testServer, writeRegistry } from "../test/support/servers.js";
import { formatTable, percentile, type BenchRow } from "./bench-row.js";

const OWNER = "bench-gateway";
const KEY = "bench-key-0123456789abcdef";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

async function samples(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

function manyServers(n: number): RegistryServer[] {
  return Array.from({ length: n }, (_, i) => {
    const prefix = `s${String(i).padStart(3, "0")}`;
    return testServer(prefix, npmPackage("@modelcontextprotocol/server-memory"), {
      tools: Array.from({ length: 10 }, (_, t) => ({
        name: `tool_${t}`,
        description: `Tool ${t} of server ${prefix}: does something useful with its arguments.`,
        inputSchema: { type: "object", properties: { query: { type: "string", description: "what to look for" } }, required: ["query"] },
      })),
    });
  });
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${KEY}` } } }));
  return client;
}

/** Starts `mcp-router serve` on a registry of `servers`, waits until it listens, returns its idle RSS in MB. */
async function idleRss(servers: RegistryServer[], nodeImage: string): Promise<{ rssMb: number; runner: string }> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-reg-"));
  await mkdir(join(dir, "servers"));
  for (const s of servers) await writeFile(join(dir, "servers", `${s.prefix}.yaml`), JSON.stringify(s.entry));
  const compiled = join(root, "dist", "src", "bin.js");
  const useDist = existsSync(compiled) && existsSync(join(root, "dist", "src", "cli", "program.js"));
  const args = useDist ? [compiled] : ["--import", "tsx", join(root, "src", "bin.ts")];
  const child = spawn(process.execPath, [...args, "serve", "--registry", dir, "--port", "0", "--data-dir", join(dir, "data"), "--api-keys-file", join(dir, "keys"), "--log-level", "warn"], {
    cwd: root,
    env: { ...process.env, MCP_ROUTER_OWNER: OWNER, MCP_ROUTER_NODE_IMAGE: nodeImage },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await writeFile(join(dir, "keys"), `${KEY}\n`);
  try {
    let stderr = "";
    const base = await new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const listening = /mcp-router listening: (http:\/\/\S+?)mcp /.exec(stderr);
        if (listening?.[1]) {
          clearTimeout(timer);
          resolve(new URL(listening[1]));
        }
      });
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    // Idle means: the table is applied and nothing is being prepared any more; then a quiet moment.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const status = await fetch(new URL("status", base), { headers: { authorization: `Bearer ${KEY}` } }).then((r) => (r.ok ? (r.json() as Promise<{ ready: boolean; servers: { reason: string }[] }>) : undefined), () => undefined);
      if (status?.ready && status.servers.length === servers.length && !status.servers.some((s) => s.reason === "Preparing")) break;
      if (Date.now() > deadline) throw new Error(`serve did not settle: ${JSON.stringify(status)?.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // V8 gives start-up garbage back at its first idle-time major GC (its memory reducer), some
    // seconds after the last allocation burst; idle RSS is read after 30 quiet seconds.
    await new Promise((r) => setTimeout(r, 30_000));
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { rssMb: kb / 1024, runner: useDist ? "node dist" : "node + tsx loader" };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await rm(dir, { recursive: true, force: true });
  }
}

/** An HTTP server on loopback that answers every POST with a small JSON-RPC result at once. */
async function trivialJsonServer(): Promise<{ url: URL; close(): Promise<void> }> {
  const answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "Echo: bench" }] } });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function benchGateway(options: { calls?: number; lists?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const calls = options.calls ?? 300;
  const lists = options.lists ?? 200;
  const images = await ensureTestImages();
  const docker = new Docker();
  await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
  const logger = pino({ level: "silent" });
  const dataDir = await mkdtemp(join(tmpdir(), "mcp-router-bench-gw-"));
  const rows: BenchRow[] = [];
  const newLauncher = () => DockerLauncher.create({ docker, logger, secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase }, pool: false });
  /** The daemon as `serve` assembles it (startDaemon), over a registry folder holding these servers. */
  const daemonFor = async (name: string, servers: RegistryServer[], launcher: DockerLauncher, audit: boolean): Promise<Daemon> => {
    const registry = join(dataDir, name, "registry");
    await writeRegistry(registry, servers);
    const daemon = await startDaemon({
      registry: { dir: registry },
      dataDir: join(dataDir, name, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      ...(audit ? { audit: { target: join(dataDir, name, "audit.log") } } : {}),
      launcher,
    });
    await daemon.sync.started;
    return daemon;
  };
  const launcher = await newLauncher();
  let launcher100: DockerLauncher | undefined;
  try {
    // (a) call overhead against a shared container; metrics and an audit log on every call, as `serve` runs.
    const daemon = await daemonFor("call", [testServer("everything", npmPackage("@modelcontextprotocol/server-everything"), { lifecycle: "shared" })], launcher, true);
    const shared = daemon.sync.reconciler.servers()[0]!;
    const http = daemon.http!;
    const runtime = daemon.runtime;
    const client = await connect(new URL("/mcp", http.url));
    const lease = await launcher.acquire(shared, { sessionId: "bench-direct" });
    const echo = { name: "echo", arguments: { message: "bench" } };
    for (let i = 0; i < 30; i++) {
      await toolCall(lease.client, echo);
      await client.callTool({ ...echo, name: "everything__echo" });
    }
    log(`gateway: ${calls} echo calls each way (interleaved)...`);
    // The same gateway session logic without a network hop: the SDK's in-memory transport pair.
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const memSession = runtime.gateway.createSession({ transport: "in-memory" });
    await memSession.server.connect(serverSide);
    const memClient = new Client({ name: "bench-mem", version: "1" });
    await memClient.connect(clientSide);
    // The client's own HTTP cost: the same fetch the SDK client uses, to a server that answers at once.
    const floor = await trivialJsonServer();
    const floorBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { ...echo, name: "everything__echo" } });
    const roundTrip = async (): Promise<void> => {
      const res = await fetch(floor.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: floorBody });
      await res.json();
    };
    for (let i = 0; i < 30; i++) await roundTrip();
    const direct: number[] = [];
    const through: number[] = [];
    const inMemory: number[] = [];
    const http0: number[] = [];
    for (let i = 0; i < calls; i++) {
      direct.push(...(await samples(1, async () => void (await toolCall(lease.client, echo)))));
      through.push(...(await samples(1, async () => void (await client.callTool({ ...echo, name: "everything__echo" })))));
      inMemory.push(...(await samples(1, async () => void (await memClient.callTool({ ...echo, name: "everything__echo" })))));
      http0.push(...(await samples(1, roundTrip)));
    }
    await floor.close();
    lease.release();
    const d50 = percentile(direct, 50);
    const g50 = percentile(through, 50);
    const m50 = percentile(inMemory, 50);
    rows.push({ name: "gateway call p50 (Streamable HTTP -> shared container)", value: g50, unit: "ms", baseline: { name: "direct SDK client, same container kind", value: d50 }, ratio: g50 / d50 });
    rows.push({ name: "gateway call overhead p50, Streamable HTTP", value: g50 - d50, unit: "ms", target: "<= +2 ms", ok: g50 - d50 <= 2 });
    const h50 = percentile(http0, 50);
    rows.push({ name: "  of which the client's HTTP round trip (its fetch to a server answering at once)", value: h50, unit: "ms" });
    rows.push({ name: "gateway call overhead p50, Streamable HTTP, without the client's round trip", value: g50 - d50 - h50, unit: "ms", baseline: { name: "client round trip", value: h50 } });
    rows.push({ name: "gateway call overhead p50, in-memory client (routing + passthrough only)", value: m50 - d50, unit: "ms", target: "<= +2 ms", ok: m50 - d50 <= 2 });
    rows.push({ name: "gateway call p99 (Streamable HTTP)", value: percentile(through, 99), unit: "ms", baseline: { name: "direct p99", value: percentile(direct, 99) } });
    await memClient.close();
    await client.close();
    await daemon.close();

    // (b) tools/list over 100 servers, no container.
    const many = manyServers(100);
    launcher100 = await newLauncher();
    const containersBefore = (await listOurContainers(OWNER)).length;
    const daemon100 = await daemonFor("list", many, launcher100, false);
    const startedBefore = launcher100.stats().started;
    const http100 = daemon100.http!;
    const client100 = await connect(new URL("/mcp", http100.url));
    let count = 0;
    for (let i = 0; i < 20; i++) count = (await client100.listTools()).tools.length;
    log(`gateway: ${lists} tools/list over 100 servers (${count} tools)...`);
    const listSamples = await samples(lists, async () => void (await client100.listTools()));
    // The same request as raw JSON-RPC over HTTP: the gateway's share, without the SDK client's
    // schema validation of 1000 tools.
    const session = (client100.transport as StreamableHTTPClientTransport).sessionId ?? "";
    const raw = async (): Promise<void> => {
      const res = await fetch(new URL("/mcp", http100.url), {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      const body = await res.text();
      if (!body.includes("s099__tool_9")) throw new Error(`unexpected tools/list answer: ${body.slice(0, 200)}`);
    };
    for (let i = 0; i < 10; i++) await raw();
    const rawSamples = await samples(lists, raw);
    const started = launcher100.stats().started - startedBefore;
    const containersAfter = (await listOurContainers(OWNER)).length;
    if (count !== 1000) throw new Error(`expected 1000 tools, got ${count}`);
    if (started !== 0 || containersAfter > containersBefore) throw new Error(`tools/list started ${started} container(s)`);
    const l50 = percentile(listSamples, 50);
    const r50 = percentile(rawSamples, 50);
    rows.push({ name: "tools/list p50, 100 servers / 1000 tools, raw JSON-RPC over HTTP", value: r50, unit: "ms", target: "<= 5 ms, 0 containers", ok: r50 <= 5 && started === 0 });
    // The SDK client then validates all 1000 tool definitions with zod: the client's cost, shown for scale.
    rows.push({ name: "tools/list p50, same, through the SDK client (+ its validation of 1000 tools)", value: l50, unit: "ms", baseline: { name: "raw JSON-RPC", value: r50 }, ratio: l50 / r50 });
    await client100.close();
    await daemon100.close();

    // (c) idle daemon RSS with 100 servers configured.
    log("gateway: idle RSS of `mcp-router serve` with 100 servers...");
    const { rssMb, runner } = await idleRss(many, images.nodeBase);
    rows.push({ name: `idle serve RSS, 100 servers (${runner})`, value: rssMb, unit: "MB", target: "<= 120 MB", ok: rssMb <= 120 });
  } finally {
    // Closed by their daemons already; closing again is harmless and covers a failure before that.
    await launcher.close();
    await launcher100?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await benchGateway();
  console.log(formatTable(rows));
}
