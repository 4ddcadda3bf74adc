/**
 * Both protocol eras on the gateway's Streamable HTTP endpoints (no Docker: the in-process probe
 * upstream): SDK v2 clients pinned to 2026-07-28 (stateless: no initialize, no session, the
 * version in every request's `_meta`), in `auto` mode (probes with server/discover), and in the
 * default 2025 mode (initialize and a session), against `/mcp` and `/servers/<prefix>/mcp`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import type { UpstreamFactory } from "../support/in-process-launcher.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import { PROBE_PACKAGE, probePackage, probeUpstream } from "../support/in-process-servers.js";
import { testServer, writeRegistry } from "../support/servers.js";
import { StreamClientTransport } from "../support/stream-client-transport.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";

type Mode = "legacy" | "auto" | { pin: string };

describe("protocol eras over Streamable HTTP", () => {
  let d: InProcessDaemon;
  const bodies: string[] = [];

  before(async () => {
    d = await startInProcessDaemon();
  });
  after(() => d.close());

  const connect = async (path: string, mode: Mode): Promise<Client> => {
    const client = new Client({ name: "eras-test", version: "1.0.0" }, { versionNegotiation: { mode } });
    const fetchSpy: typeof fetch = async (input, init) => {
      if (typeof init?.body === "string") bodies.push(init.body);
      return fetch(input, init);
    };
    await client.connect(new StreamableHTTPClientTransport(new URL(path, d.url), { requestInit: { headers: { authorization: `Bearer ${d.key}` } }, fetch: fetchSpy }));
    return client;
  };

  for (const [label, mode, era] of [
    ["pinned 2026-07-28", { pin: "2026-07-28" }, "modern"],
    ["auto", "auto", "modern"],
    ["2025 (default)", "legacy", "legacy"],
  ] as const) {
    it(`${label}: lists and calls tools on /mcp and on the per-server endpoint`, async () => {
      bodies.length = 0;
      for (const [path, tool] of [["mcp", "percall__remember"], ["servers/percall/mcp", "remember"]] as const) {
        const client = await connect(path, mode);
        try {
          assert.equal(client.getProtocolEra(), era);
          const tools = await client.listTools();
          assert.ok(tools.tools.some((t) => t.name === tool), `${path} lists ${tool}: ${tools.tools.map((t) => t.name).join(", ")}`);
          const result = await client.callTool({ name: tool, arguments: { note: `hello ${label}` } });
          // per-call: a fresh upstream instance, holding only this note
          assert.deepEqual(result.content, [{ type: "text", text: `notes: hello ${label}` }]);
        } finally {
          await client.close();
        }
      }
      const initialized = bodies.some((b) => b.includes('"method":"initialize"'));
      assert.equal(initialized, era === "legacy", era === "modern" ? "a 2026 client never initializes" : "a 2025 client initializes");
    });
  }

  it("owns its hop's _meta: the client's envelope never reaches the upstream; trace context does", async () => {
    const client = await connect("mcp", { pin: "2026-07-28" });
    try {
      const seen = new Promise<Record<string, unknown> | undefined>((resolve) => d.probeEvents.once("called", (e) => resolve(e.meta)));
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      await client.callTool({ name: "percall__whoami", arguments: {}, _meta: { traceparent } });
      const meta = (await seen) ?? {};
      assert.equal(meta.traceparent, traceparent);
      assert.deepEqual(Object.keys(meta).filter((k) => k.startsWith("io.modelcontextprotocol/")), []);
    } finally {
      await client.close();
    }
  });

  it("answers server/discover with the versions and capabilities it serves", async () => {
    const client = await connect("mcp", { pin: "2026-07-28" });
    try {
      const discover = client.getDiscoverResult();
      assert.ok(discover?.supportedVersions.includes("2026-07-28"));
      assert.ok(discover?.supportedVersions.includes("2025-11-25"));
      assert.ok(discover?.capabilities.tools);
    } finally {
      await client.close();
    }
  });

  it("refuses a request whose Mcp-Method header disagrees with its body, and an unsupported version, with the 2026 error codes", async () => {
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(new URL("mcp", d.url), { method: "POST", headers: { authorization: `Bearer ${d.key}`, "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(body) });
    const meta = (version: string) => ({ "io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": {} });
    const mismatch = await post({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: meta("2026-07-28") } }, { "mcp-protocol-version": "2026-07-28", "mcp-method": "prompts/list" });
    const mismatchBody = (await mismatch.json()) as { error?: { code: number } };
    assert.equal(mismatchBody.error?.code, -32020, JSON.stringify(mismatchBody));
    const unsupported = await post({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: meta("2099-01-01") } }, { "mcp-protocol-version": "2099-01-01", "mcp-method": "tools/list" });
    const unsupportedBody = (await unsupported.json()) as { error?: { code: number; data?: { supported?: string[] } } };
    assert.equal(unsupportedBody.error?.code, -32022, JSON.stringify(unsupportedBody));
  });
});

describe("protocol eras over stdio", () => {
  it("answers a 2026-07-28 client's requests one by one, and a 2025 client's session, on the same daemon", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-router-eras-stdio-"));
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const launcher = new InProcessLauncher({ upstreams: { [PROBE_PACKAGE]: probeUpstream() } });
    await writeRegistry(join(dir, "registry"), [testServer("percall", probePackage())]);
    const daemon = await startDaemon({ registry: { dir: join(dir, "registry") }, dataDir: join(dir, "data"), secrets: staticSecretSource({}), log: { level: "silent" }, stdio: { stdin, stdout }, launcher });
    try {
      await daemon.sync.started;
      const client = new Client({ name: "eras-stdio", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
      await client.connect(new StreamClientTransport(stdout, stdin) as never);
      assert.equal(client.getProtocolEra(), "modern");
      assert.ok((await client.listTools()).tools.some((t) => t.name === "percall__remember"));
      const result = await client.callTool({ name: "percall__remember", arguments: { note: "over stdio" } });
      assert.deepEqual(result.content, [{ type: "text", text: "notes: over stdio" }]);
      await client.close();
    } finally {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("resource subscriptions through the gateway, both eras", () => {
  const URI = "memo://board";
  /** A shared upstream whose resource changes when its `touch` tool is called. */
  const boardUpstream = (): UpstreamFactory => {
    let instance: { server: Server; subscribed: Set<string> } | undefined;
    return () => {
      const subscribed = new Set<string>();
      const server = new Server({ name: "board", version: "1.0.0" }, { capabilities: { resources: { subscribe: true }, tools: {} } });
      server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: URI, name: "board" }] }));
      server.setRequestHandler(ReadResourceRequestSchema, async () => ({ contents: [{ uri: URI, text: "hello" }] }));
      server.setRequestHandler(SubscribeRequestSchema, async (r) => (subscribed.add(r.params.uri), {}));
      server.setRequestHandler(UnsubscribeRequestSchema, async (r) => (subscribed.delete(r.params.uri), {}));
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: "touch", inputSchema: { type: "object" } }] }));
      server.setRequestHandler(CallToolRequestSchema, async () => {
        if (subscribed.has(URI)) await server.sendResourceUpdated({ uri: URI });
        return { content: [{ type: "text", text: `touched (${subscribed.size} subscribed)` }] };
      });
      instance = { server, subscribed };
      return { server: instance.server };
    };
  };

  let dir: string;
  let daemon: Daemon;
  const KEY = "test-key-subscriptions-0123";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-subs-"));
    const board = testServer("board", { registryType: "npm", identifier: "@mcp-router-test/board", version: "1.0.0", transport: { type: "stdio" } }, { lifecycle: "shared" });
    await writeRegistry(join(dir, "registry"), [board, testServer("percall", probePackage())]);
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      launcher: new InProcessLauncher({ upstreams: { "@mcp-router-test/board": boardUpstream(), [PROBE_PACKAGE]: probeUpstream() } }),
    });
    await daemon.sync.started;
    assert.deepEqual(daemon.status().servers.filter((s) => s.reason !== "Applied").map((s) => [s.prefix, s.reason, s.message]), [], "every server applied");
  });
  after(async () => {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  });

  const transport = () => new StreamableHTTPClientTransport(new URL("mcp", daemon.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } });

  it("2025: subscribe, get the upstream's update under the namespaced URI, unsubscribe; a per-call server says which lifecycle can", async () => {
    const client = new Client({ name: "subs-2025", version: "1.0.0" });
    await client.connect(transport());
    try {
      assert.equal(client.getServerCapabilities()?.resources?.subscribe, true);
      const updated = new Promise<string>((resolve) => client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params.uri)));
      await client.subscribeResource({ uri: `board+${URI}` });
      await client.callTool({ name: "board__touch", arguments: {} });
      assert.equal(await updated, `board+${URI}`);
      await client.unsubscribeResource({ uri: `board+${URI}` });
      const after = await client.callTool({ name: "board__touch", arguments: {} });
      assert.deepEqual(after.content, [{ type: "text", text: "touched (0 subscribed)" }]);
      await assert.rejects(client.subscribeResource({ uri: "percall+memo://x" }), /per-session or shared/);
    } finally {
      await client.close();
    }
  });

  it("2026: subscriptions/listen acknowledges the resource and delivers its update tagged with the subscription id", async () => {
    const client = new Client({ name: "subs-2026", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(transport());
    try {
      const updated = new Promise<unknown>((resolve) => client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params)));
      const subscription = await client.listen({ resourceSubscriptions: [`board+${URI}`], toolsListChanged: true });
      assert.deepEqual(subscription.honoredFilter, { toolsListChanged: true, resourceSubscriptions: [`board+${URI}`] });
      await client.callTool({ name: "board__touch", arguments: {} });
      const params = (await updated) as { uri: string };
      assert.equal(params.uri, `board+${URI}`);
      await subscription.close?.();
    } finally {
      await client.close();
    }
  });
});

describe("hierarchical mode in the 2026 era", () => {
  it("lists the four meta tools and calls a server's tool through call_tool, statelessly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-router-eras-hier-"));
    await writeRegistry(join(dir, "registry"), [testServer("percall", probePackage())]);
    const KEY = "test-key-hierarchical-2026-01";
    const daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      hierarchical: true,
      launcher: new InProcessLauncher({ upstreams: { [PROBE_PACKAGE]: probeUpstream() } }),
    });
    const client = new Client({ name: "eras-hier", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    try {
      await daemon.sync.started;
      await client.connect(new StreamableHTTPClientTransport(new URL("mcp", daemon.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ["list_servers", "list_tools", "search_tools", "call_tool"]);
      const result = await client.callTool({ name: "call_tool", arguments: { server: "percall", tool: "remember", arguments: { note: "via call_tool" } } });
      assert.deepEqual(result.content, [{ type: "text", text: "notes: via call_tool" }]);
    } finally {
      await client.close();
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
