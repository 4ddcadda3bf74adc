/**
 * Protocol eras benchmark (issue 15), no Docker: call overhead through the gateway's `/mcp` over
 * Streamable HTTP for a 2026-07-28 client (SDK v2 pinned: stateless, the version in `_meta`) and
 * for 2025 clients (SDK v2 in its default mode, and SDK v1: initialize + session), each next to the
 * same client talking straight to the same upstream, measured interleaved in the same run.
 *
 * The upstream is an SDK v2 server with one `echo` tool, in this process, served over HTTP on
 * loopback by `createMcpHandler` (both eras: 2026-07-28 per request, 2025 stateless), and
 * registered as a remote server, so the gateway's own hop is its remote launcher's: the upstream
 * speaks both eras, so a 2025 client's calls go over a 2025 session (SDK v1 client) and a 2026
 * client's statelessly (SDK v2 client, connected from the era verdict probed once). The daemon is
 * assembled by `startDaemon` with metrics and an audit log on, as `serve` runs. Two registry files
 * point at that upstream:
 *  - `shared` (`lifecycle: shared`): one upstream session for every 2025 caller, so the rows show
 *    the gateway's own cost for each era;
 *  - `session` (no lifecycle: per-session for a remote): an upstream session per 2025 client
 *    session; a 2026 request needs none (before the modern hop, each one opened and closed its own).
 * Plus a 2026-07-28 client's `tools/list` and `server/discover`.
 * Run alone: `npx tsx bench/eras.ts [calls]` (default 2000 calls per client after warm-up).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer, createMcpHandler, fromJsonSchema } from "@modelcontextprotocol/server";
import { pino } from "pino";
import { startDaemon } from "../src/daemon/start-daemon.js";
import { RemoteLauncher } from "../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../src/registry/policy.js";
import type { RegistryFile, RegistryServer } from "../src/registry/types.js";
import { staticSecretSource } from "../src/secrets/secret-source.js";
import { listenFetch } from "../test/support/serve-fetch.js";
import { writeRegistry } from "../test/support/servers.js";
import { formatTable, percentile, type BenchRow } from "./bench-row.js";

const KEY = "bench-eras-key-0123456789abcdef";
const MODERN = "2026-07-28";
/** The target for a 2026-07-28 client's call overhead (p50, including a round trip). */
const TARGET_MS = 1.5;
/** "No slower than the 2025 path": p50 ratios within this are equal on this (shared, noisy) kind of machine. */
const SAME_WITHIN = 1.05;

/** The upstream: an SDK v2 server with one echo tool, both eras, on 127.0.0.1. */
async function startEchoUpstream(): Promise<{ url: URL; close(): Promise<void> }> {
  const messageSchema = fromJsonSchema<{ message: string }>({ type: "object", properties: { message: { type: "string" } }, required: ["message"] });
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: "bench-echo", version: "1.0.0" });
    server.registerTool("echo", { description: "Echoes its message", inputSchema: messageSchema }, async ({ message }) => ({ content: [{ type: "text", text: `Echo: ${message}` }] }));
    return server;
  });
  const served = await listenFetch((request) => handler.fetch(request));
  return {
    url: new URL("/mcp", served.origin),
    async close() {
      await handler.close();
      await served.close();
    },
  };
}

function remoteServer(prefix: string, url: URL, router: Omit<NonNullable<RegistryFile["router"]>, "prefix"> = {}): RegistryServer {
  const entry: RegistryFile = { name: `dev.mcp-router.bench/${prefix}`, description: `bench echo upstream (${prefix})`, version: "1.0.0", remotes: [{ type: "streamable-http", url: url.href }], router: { prefix, ...router } };
  return { prefix, name: entry.name, file: `servers/${prefix}.yaml`, hash: prefix, entry };
}

/** What every client below can do, whichever SDK it is. */
interface BenchClient {
  call(name: string): Promise<void>;
  close(): Promise<void>;
}

type Kind = "modern" | "legacy-v2" | "legacy-v1";

const KIND_LABEL: Record<Kind, string> = {
  modern: "SDK v2 pinned 2026-07-28",
  "legacy-v2": "SDK v2 default (2025)",
  "legacy-v1": "SDK v1 (2025)",
};

async function connectClient(kind: Kind, url: URL, key?: string): Promise<BenchClient & { v2?: ClientV2 }> {
  const requestInit = key ? { headers: { authorization: `Bearer ${key}` } } : {};
  const check = (result: { content?: unknown }) => {
    const first = (result.content as { text?: string }[] | undefined)?.[0];
    if (first?.text !== "Echo: bench") throw new Error(`unexpected echo answer: ${JSON.stringify(result).slice(0, 200)}`);
  };
  if (kind === "legacy-v1") {
    const client = new ClientV1({ name: "bench-eras", version: "1" });
    await client.connect(new TransportV1(url, { requestInit }));
    return { call: async (name) => check((await client.callTool({ name, arguments: { message: "bench" } })) as { content?: unknown }), close: () => client.close() };
  }
  const client = new ClientV2({ name: "bench-eras", version: "1" }, kind === "modern" ? { versionNegotiation: { mode: { pin: MODERN } } } : {});
  await client.connect(new TransportV2(url, { requestInit }));
  const era = client.getProtocolEra();
  if (era !== (kind === "modern" ? "modern" : "legacy")) throw new Error(`${kind} client negotiated the ${era} era with ${url.href}`);
  return { v2: client, call: async (name) => check(await client.callTool({ name, arguments: { message: "bench" } })), close: () => client.close() };
}

/** An HTTP server on loopback that answers every POST with a small JSON-RPC result at once: the client's own round trip. */
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

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function benchEras(options: { calls?: number; budgetMs?: number; sessionCalls?: number; lists?: number; log?: (line: string) => void } = {}): Promise<BenchRow[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const calls = options.calls ?? 2000;
  /** Section (a) stops early after this long, with the rounds done so far (the row names say how many). */
  const budgetMs = options.budgetMs ?? 30_000;
  const sessionCalls = options.sessionCalls ?? 300;
  const lists = options.lists ?? 1000;
  const rows: BenchRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-eras-"));
  const upstream = await startEchoUpstream();
  const closing: Array<() => Promise<void>> = [];
  try {
    await writeRegistry(join(dir, "registry"), [remoteServer("shared", upstream.url, { lifecycle: "shared" }), remoteServer("session", upstream.url)]);
    const daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      // The upstream is on loopback: the operator allows private targets.
      policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      audit: { target: join(dir, "audit.log") },
      launcher: new RemoteLauncher({ logger: pino({ level: "silent" }), secrets: staticSecretSource({}) }),
    });
    closing.push(() => daemon.close());
    await daemon.sync.started;
    const notApplied = daemon.status().servers.filter((s) => s.reason !== "Applied");
    if (notApplied.length) throw new Error(`servers not applied: ${JSON.stringify(notApplied)}`);
    const gatewayUrl = new URL("/mcp", daemon.url);

    // (a) echo through the gateway (shared upstream session) vs the same client straight to the upstream.
    const kinds: Kind[] = ["modern", "legacy-v2", "legacy-v1"];
    const pairs = await Promise.all(
      kinds.map(async (kind) => {
        const through = await connectClient(kind, gatewayUrl, KEY);
        const direct = await connectClient(kind, upstream.url);
        closing.push(() => through.close(), () => direct.close());
        return { kind, through, direct, t: [] as number[], d: [] as number[] };
      }),
    );
    for (let i = 0; i < 100; i++) {
      for (const p of pairs) {
        await p.direct.call("echo");
        await p.through.call("shared__echo");
      }
    }
    // The client's own HTTP round trip: the fetch the SDK clients use, to a server answering at once.
    const floor = await trivialJsonServer();
    closing.push(() => floor.close());
    const floorBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "shared__echo", arguments: { message: "bench" } } });
    const roundTrip = async (): Promise<void> => {
      const res = await fetch(floor.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: floorBody });
      await res.json();
    };
    for (let i = 0; i < 100; i++) await roundTrip();
    const rt: number[] = [];
    const started = performance.now();
    log(`eras: up to ${calls} echo calls per client (at most ${budgetMs / 1000} s), direct and through the gateway, interleaved...`);
    let rounds = 0;
    while (rounds < calls && performance.now() - started < budgetMs) {
      for (const p of pairs) {
        p.d.push(await time(() => p.direct.call("echo")));
        p.t.push(await time(() => p.through.call("shared__echo")));
      }
      rt.push(await time(roundTrip));
      rounds += 1;
    }
    log(`eras: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const rt50 = percentile(rt, 50);
    const p50 = new Map<Kind, { through: number; direct: number }>();
    for (const p of pairs) {
      const t50 = percentile(p.t, 50);
      const d50 = percentile(p.d, 50);
      p50.set(p.kind, { through: t50, direct: d50 });
      const label = KIND_LABEL[p.kind];
      rows.push({ name: `eras: call p50 via gateway /mcp, ${label} (${rounds} calls)`, value: t50, unit: "ms", baseline: { name: "same client, direct to upstream", value: d50 }, ratio: t50 / d50 });
      rows.push({ name: `eras: call p99 via gateway /mcp, ${label}`, value: percentile(p.t, 99), unit: "ms", baseline: { name: "direct p99", value: percentile(p.d, 99) }, ratio: percentile(p.t, 99) / percentile(p.d, 99) });
      rows.push({
        name: `eras: call overhead p50, ${label}`,
        value: t50 - d50,
        unit: "ms",
        ...(p.kind === "modern" ? { target: `<= +${TARGET_MS} ms`, ok: t50 - d50 <= TARGET_MS } : {}),
      });
    }
    rows.push({ name: "eras:   of which a client's HTTP round trip (fetch to a server answering at once), p50", value: rt50, unit: "ms" });
    const modern = p50.get("modern")!;
    const legacy = p50.get("legacy-v2")!;
    rows.push({ name: "eras: call overhead p50, SDK v2 pinned 2026-07-28, without that round trip", value: modern.through - modern.direct - rt50, unit: "ms", baseline: { name: "client round trip", value: rt50 } });
    rows.push({
      name: "eras: modern vs 2025 path through the gateway, call p50 (both SDK v2)",
      value: modern.through,
      unit: "ms",
      baseline: { name: "2025 session p50", value: legacy.through },
      ratio: modern.through / legacy.through,
      target: `ratio <= ${SAME_WITHIN} (no slower)`,
      ok: modern.through / legacy.through <= SAME_WITHIN,
    });
    for (const p of pairs) await Promise.all([p.through.close(), p.direct.close()]);

    // (b) a per-session remote: a stateless request opens and closes an upstream session of its own.
    const modernClient = await connectClient("modern", gatewayUrl, KEY);
    const legacyClient = await connectClient("legacy-v2", gatewayUrl, KEY);
    closing.push(() => modernClient.close(), () => legacyClient.close());
    for (let i = 0; i < 30; i++) {
      await modernClient.call("session__echo");
      await legacyClient.call("session__echo");
    }
    log(`eras: ${sessionCalls} calls per client to a per-session remote...`);
    const sm: number[] = [];
    const sl: number[] = [];
    for (let i = 0; i < sessionCalls; i++) {
      sm.push(await time(() => modernClient.call("session__echo")));
      sl.push(await time(() => legacyClient.call("session__echo")));
    }
    const sm50 = percentile(sm, 50);
    const sl50 = percentile(sl, 50);
    rows.push({ name: "eras: per-session remote, call p50, SDK v2 pinned 2026-07-28", value: sm50, unit: "ms", baseline: { name: "SDK v2 2025 session p50", value: sl50 }, ratio: sm50 / sl50, target: `ratio <= ${SAME_WITHIN} (no slower)`, ok: sm50 / sl50 <= SAME_WITHIN });
    rows.push({ name: "eras: per-session remote, call p99, SDK v2 pinned 2026-07-28", value: percentile(sm, 99), unit: "ms", baseline: { name: "2025 p99", value: percentile(sl, 99) }, ratio: percentile(sm, 99) / percentile(sl, 99) });

    // (c) a 2026-07-28 client's tools/list and server/discover on /mcp, next to the 2025 client's tools/list.
    const modernV2 = modernClient.v2!;
    const legacyV2 = legacyClient.v2!;
    for (let i = 0; i < 50; i++) {
      await modernV2.listTools();
      await legacyV2.listTools();
      await modernV2.discover();
    }
    log(`eras: ${lists} tools/list (each era) and server/discover...`);
    const lm: number[] = [];
    const ll: number[] = [];
    const dm: number[] = [];
    for (let i = 0; i < lists; i++) {
      lm.push(await time(() => modernV2.listTools()));
      ll.push(await time(() => legacyV2.listTools()));
      dm.push(await time(() => modernV2.discover()));
    }
    const lm50 = percentile(lm, 50);
    const ll50 = percentile(ll, 50);
    rows.push({ name: "eras: tools/list p50 (2 tools), SDK v2 pinned 2026-07-28", value: lm50, unit: "ms", baseline: { name: "SDK v2 2025 session", value: ll50 }, ratio: lm50 / ll50 });
    rows.push({ name: "eras: tools/list p99, SDK v2 pinned 2026-07-28", value: percentile(lm, 99), unit: "ms", baseline: { name: "2025 p99", value: percentile(ll, 99) }, ratio: percentile(lm, 99) / percentile(ll, 99) });
    rows.push({ name: "eras: server/discover p50, SDK v2 pinned 2026-07-28", value: percentile(dm, 50), unit: "ms", baseline: { name: "its tools/list p50", value: lm50 }, ratio: percentile(dm, 50) / lm50 });
    rows.push({ name: "eras: server/discover p99, SDK v2 pinned 2026-07-28", value: percentile(dm, 99), unit: "ms" });
  } finally {
    for (const close of closing.reverse()) await close().catch(() => undefined);
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const calls = Number(process.argv[2] ?? 2000);
  console.log(formatTable(await benchEras({ calls })));
}
