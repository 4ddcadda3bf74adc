/**
 * Tracing benchmark (issue 19, item 4), no Docker: tools/call throughput through the gateway with
 * OpenTelemetry tracing on (exporting to a local OTLP/HTTP collector that reads and drops every
 * batch) and off, in the same run, in alternating windows so both see the same machine.
 *
 * Two daemons assembled by `startDaemon` as `serve` runs them (HTTP, bearer auth, metrics, an
 * audit log), identical but for `tracing`, serve the in-process probe server under `lifecycle:
 * shared` (one upstream instance, so the rows show the gateway's own cost, where tracing weighs
 * most). `CLIENTS` SDK clients per daemon call `whoami` back to back, each call with a client
 * traceparent in `_meta`, so the span has a parent and the upstream gets a new one.
 * Run alone: `npx tsx bench/tracing.ts [windowMs]`.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Daemon } from "../src/daemon/start-daemon.js";
import { startDaemon } from "../src/daemon/start-daemon.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import { InProcessLauncher } from "../test/support/in-process-launcher.js";
import type { ProbeEvents } from "../test/support/in-process-servers.js";
import { PROBE_PACKAGE, probePackage, probeUpstream } from "../test/support/in-process-servers.js";
import { testServer, writeRegistry } from "../test/support/servers.js";
import { formatTable, type BenchRow } from "./bench-row.js";

const KEY = "bench-tracing-key-0123456789abcdef";
const CLIENTS = 4;
const ROUNDS = 5;

/** An OTLP/HTTP collector that reads each export and answers 200; counts the bytes it got. */
async function startSinkCollector(): Promise<{ url: string; bytes: () => number; close(): Promise<void> }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (c: Buffer) => (bytes += c.length));
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    bytes: () => bytes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startBenchDaemon(dir: string, tracing: string | undefined): Promise<Daemon> {
  const launcher = new InProcessLauncher({ upstreams: { [PROBE_PACKAGE]: probeUpstream(new EventEmitter<ProbeEvents>()) } });
  await writeRegistry(join(dir, "registry"), [testServer("shared", probePackage(), { lifecycle: "shared" })]);
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
    audit: { target: join(dir, "audit.log") },
    launcher,
    ...(tracing ? { tracing: { url: tracing } } : {}),
  });
  await daemon.sync.started;
  return daemon;
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "bench-tracing", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  return client;
}

const traceparent = (): string => `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;

/** Calls made by `clients` calling back to back for `ms`. */
async function window(clients: readonly Client[], ms: number): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < until) {
        await client.callTool({ name: "shared__whoami", arguments: {}, _meta: { traceparent: traceparent() } });
        done += 1;
      }
    }),
  );
  return done;
}

export async function benchTracing(options: { windowMs?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const windowMs = options.windowMs ?? 2000;
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-tracing-"));
  const collector = await startSinkCollector();
  const closing: Array<() => Promise<void>> = [];
  try {
    const off = await startBenchDaemon(join(dir, "off"), undefined);
    closing.push(() => off.close());
    const on = await startBenchDaemon(join(dir, "on"), collector.url);
    closing.push(() => on.close());
    const offClients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(off.url!)));
    const onClients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(on.url!)));
    closing.push(async () => void (await Promise.all([...offClients, ...onClients].map((c) => c.close()))));
    await window(offClients, 500);
    await window(onClients, 500);
    log(`tracing: ${ROUNDS} rounds of ${windowMs} ms off and on, ${CLIENTS} clients each...`);
    let offCalls = 0;
    let onCalls = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always gets the warmer (or noisier) half.
      if (round % 2 === 0) {
        offCalls += await window(offClients, windowMs);
        onCalls += await window(onClients, windowMs);
      } else {
        onCalls += await window(onClients, windowMs);
        offCalls += await window(offClients, windowMs);
      }
    }
    await on.tracer?.close();
    const seconds = (ROUNDS * windowMs) / 1000;
    const offRate = offCalls / seconds;
    const onRate = onCalls / seconds;
    log(`tracing: ${offCalls} calls off, ${onCalls} on; the collector received ${(collector.bytes() / 1024).toFixed(0)} KiB`);
    const cost = 1 - onRate / offRate;
    return [
      { name: `tools/call through the gateway, tracing off (${CLIENTS} clients, shared upstream)`, value: offRate, unit: "calls/s" },
      {
        name: `tools/call through the gateway, tracing on (OTLP/HTTP to a local collector)`,
        value: onRate,
        unit: "calls/s",
        baseline: { name: "tracing off", value: offRate },
        ratio: onRate / offRate,
        target: "cost <= 5% (ratio >= 0.95)",
        ok: cost <= 0.05,
      },
    ];
  } finally {
    for (const close of closing.reverse()) await close().catch(() => undefined);
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const windowMs = Number(process.argv[2] ?? 2000);
  console.log(formatTable(await benchTracing({ windowMs })));
}
