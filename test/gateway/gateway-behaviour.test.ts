/**
 * The gateway's behaviour, without Docker: the daemon as `serve` and `stdio` assemble it
 * (startDaemon: a watched registry folder, the reconciler, the gateway, Streamable HTTP, SSE,
 * stdio), serving real MCP servers that run in this process (InProcessLauncher: server-everything's
 * real server and a small probe server, each linked to the SDK's real client in memory), driven by
 * the SDK's real clients. What needs real containers stays in http-gateway and stdio-gateway.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { CallToolResultSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { InProcessLauncher, nextEvent } from "../support/in-process-launcher.js";
import type { ProbeEvents } from "../support/in-process-servers.js";
import { EVERYTHING_PACKAGE, PROBE_PACKAGE, everythingUpstream, probePackage, probeUpstream } from "../support/in-process-servers.js";
import { StreamClientTransport } from "../support/stream-client-transport.js";
import { testServer, writeRegistry } from "../support/servers.js";
import type { TestClient } from "./fixture.js";
import { SAMPLED_TEXT, connectClient, testServers, text, waitFor } from "./fixture.js";

const KEY = "test-key-in-process-0123456789";
const auth = { Authorization: `Bearer ${KEY}` };
type Kind = "streamable-http" | "sse" | "stdio";

/** server-everything (as the Docker tests register it) and the probe server under each lifecycle. */
function registryServers(): RegistryServer[] {
  return [
    testServers().everything,
    testServer("percall", probePackage()),
    testServer("persession", probePackage(), { lifecycle: "per-session" }),
    testServer("slow", probePackage(), { limits: { timeoutSeconds: 0.2 } }),
    // A reviewed catalog in the registry file: served without discovery.
    testServer("shared", probePackage(), {
      lifecycle: "shared",
      tools: [
        { name: "remember", inputSchema: { type: "object", properties: { note: { type: "string" } }, required: ["note"] } },
        { name: "whoami", inputSchema: { type: "object" } },
        { name: "wait-for-cancel", inputSchema: { type: "object" } },
      ],
    }),
  ];
}

/** A daemon on an InProcessLauncher over its own registry folder. */
async function startInProcessDaemon(dir: string, options: { hierarchical?: boolean; stdio?: { stdin: PassThrough; stdout: PassThrough } }) {
  const probeEvents = new EventEmitter<ProbeEvents>();
  const launcher = new InProcessLauncher({ upstreams: { [EVERYTHING_PACKAGE]: await everythingUpstream(), [PROBE_PACKAGE]: probeUpstream(probeEvents) } });
  await writeRegistry(join(dir, "registry"), registryServers());
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: process.env.LOG_LEVEL ?? "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
    launcher,
    ...(options.hierarchical ? { hierarchical: true } : {}),
    ...(options.stdio ? { stdio: options.stdio } : {}),
  });
  await daemon.sync.started;
  assert.deepEqual(daemon.status().servers.filter((s) => s.reason !== "Applied").map((s) => [s.prefix, s.reason, s.message]), [], "every server applied");
  return { daemon, launcher, probeEvents };
}

/** The calls of a session, over any transport: the assertions the Docker suites made before this file existed. */
function definePassthroughTests(kind: string, get: () => TestClient): void {
  it("passes progress of a long-running tool through", async () => {
    const progress: number[] = [];
    const result = await get().client.callTool({ name: "everything__trigger-long-running-operation", arguments: { duration: 1, steps: 3 } }, CallToolResultSchema, {
      onprogress: (p) => progress.push(p.progress),
    });
    assert.match(text(result), /Long running operation completed/);
    assert.deepEqual(progress, [1, 2, 3]);
  });

  it("forwards sampling to this client and completes the tool with its answer", async () => {
    const before = get().sampling;
    const result = await get().client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "say hi" } });
    assert.equal(get().sampling, before + 1);
    assert.match(JSON.stringify(result), new RegExp(SAMPLED_TEXT));
  });

  it("forwards elicitation to this client and completes the tool with its answer", async () => {
    const result = await get().client.callTool({ name: "everything__trigger-elicitation-request", arguments: {} });
    assert.ok(get().elicitation >= 1);
    assert.match(text(result), /Ada Lovelace/);
  });

  it("passes logging messages through", async () => {
    get().logs.length = 0;
    await get().client.callTool({ name: "everything__toggle-simulated-logging", arguments: {} });
    await waitFor("a logging message", () => get().logs.length > 0 || undefined, 5_000);
    assert.match(JSON.stringify(get().logs[0]), /message/);
  });

  it("routes resources (list, templates, read) with namespaced URIs", async () => {
    const { resources } = await get().client.listResources();
    const first = resources[0];
    assert.ok(first, "server-everything lists resources");
    assert.ok(resources.every((r) => /^(everything|memory)\+/.test(r.uri)), `URIs are namespaced: ${resources.map((r) => r.uri).join(", ")}`);
    const read = await get().client.readResource({ uri: first.uri });
    assert.equal(read.contents[0]?.uri, first.uri);
    const { resourceTemplates } = await get().client.listResourceTemplates();
    const textTemplate = resourceTemplates.find((t) => /dynamic\/text/.test(t.uriTemplate));
    assert.ok(textTemplate, JSON.stringify(resourceTemplates));
    const dyn = await get().client.readResource({ uri: textTemplate.uriTemplate.replace(/\{[^}]+\}/, "1") });
    assert.ok(dyn.contents.length > 0);
  });

  it("routes prompts (list, get) and completion", async () => {
    const { prompts } = await get().client.listPrompts();
    assert.ok(prompts.some((p) => p.name === "everything__simple-prompt"), prompts.map((p) => p.name).join(","));
    const got = await get().client.getPrompt({ name: "everything__simple-prompt" });
    assert.ok(got.messages.length > 0);
    const completion = await get().client.complete({ ref: { type: "ref/prompt", name: "everything__completable-prompt" }, argument: { name: "department", value: "En" } });
    assert.deepEqual(completion.completion.values, ["Engineering"]);
  });

  it("unknown tools are MCP errors, not hangs", async () => {
    await assert.rejects(get().client.callTool({ name: "nope__nothing", arguments: {} }), /unknown tool/);
  });

  it("lists and calls namespaced tools of every server", async () => {
    const { tools } = await get().client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ["everything__echo", "percall__remember", "persession__whoami", "shared__wait-for-cancel"]) assert.ok(names.includes(name), names.join(","));
    assert.ok(names.every((n) => /^[A-Za-z0-9_.-]{1,128}$/.test(n)));
    assert.equal(text(await get().client.callTool({ name: "everything__echo", arguments: { message: `via ${kind}` } })), `Echo: via ${kind}`);
  });
}

describe("gateway behaviour (in-process upstreams, no Docker)", () => {
  let dir: string;
  let daemon: Daemon;
  let launcher: InProcessLauncher;
  let probeEvents: EventEmitter<ProbeEvents>;
  let hierarchical: { daemon: Daemon; launcher: InProcessLauncher };
  let stdioClient: TestClient;
  const clients: TestClient[] = [];

  function transportFor(kind: "streamable-http" | "sse", base: URL, path = "/mcp"): Transport {
    if (kind === "streamable-http") return new StreamableHTTPClientTransport(new URL(path, base), { requestInit: { headers: auth } });
    return new SSEClientTransport(new URL("/sse", base), {
      requestInit: { headers: auth },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth } }) },
    });
  }

  async function connect(kind: "streamable-http" | "sse", base: URL = daemon.url as URL, path = "/mcp"): Promise<TestClient> {
    const c = await connectClient(transportFor(kind, base, path));
    clients.push(c);
    return c;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-inproc-"));
    // The daemon serves stdio on these streams too, as `mcp-router stdio` does on the process's.
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    ({ daemon, launcher, probeEvents } = await startInProcessDaemon(join(dir, "flat"), { stdio: { stdin, stdout } }));
    stdioClient = await connectClient(new StreamClientTransport(stdout, stdin));
    hierarchical = await startInProcessDaemon(join(dir, "hierarchical"), { hierarchical: true });
  });

  after(async () => {
    for (const c of clients) await c.client.close().catch(() => undefined);
    await stdioClient?.client.close();
    await daemon?.done;
    await daemon?.close();
    await hierarchical?.daemon.close();
    assert.equal(launcher?.stats().containers, 0, "no upstream instance left");
    assert.equal(hierarchical?.launcher.stats().containers, 0, "no upstream instance left");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("caches discovered catalogs: tools/list answers without starting an upstream", async () => {
    const c = await connect("streamable-http");
    const discovered = registryServers().filter((s) => !s.entry.router?.tools?.length).map((s) => s.prefix);
    assert.deepEqual(
      launcher.stats().servers.filter((s) => s.started > 0).map((s) => s.prefix).sort(),
      discovered.sort(),
      "the servers without router.tools were discovered through the launcher, the one with it was not started",
    );
    const before = launcher.stats().started;
    const { tools } = await c.client.listTools();
    assert.equal(launcher.stats().started, before, "tools/list started no upstream");
    assert.ok(tools.length > 10);
  });

  for (const kind of ["streamable-http", "sse", "stdio"] as const satisfies readonly Kind[]) {
    describe(kind, () => {
      let c: TestClient;
      before(async () => {
        c = kind === "stdio" ? stdioClient : await connect(kind);
      });

      definePassthroughTests(kind, () => c);
    });
  }

  describe("lifecycles", () => {
    it("per-call: a fresh upstream per call, stopped when the call is done", async () => {
      const c = await connect("streamable-http");
      const started = launcher.stats().started;
      const stopped = nextEvent(launcher.events, "stopped", (e) => e.prefix === "percall");
      assert.equal(text(await c.client.callTool({ name: "percall__remember", arguments: { note: "ada" } })), "notes: ada");
      assert.equal((await stopped).reason, "call done");
      assert.equal(text(await c.client.callTool({ name: "percall__remember", arguments: { note: "grace" } })), "notes: grace", "no state leaks between calls");
      assert.equal(launcher.stats().started, started + 2);
    });

    it("per-session: one upstream per session, stopped when the session ends", async () => {
      const a = await connect("streamable-http");
      const b = await connect("sse");
      assert.equal(text(await a.client.callTool({ name: "persession__remember", arguments: { note: "a1" } })), "notes: a1");
      assert.equal(text(await b.client.callTool({ name: "persession__remember", arguments: { note: "b1" } })), "notes: b1", "another session, another upstream");
      assert.equal(text(await a.client.callTool({ name: "persession__remember", arguments: { note: "a2" } })), "notes: a1, a2", "the same session keeps its upstream");
      assert.equal(launcher.running("persession"), 2);
      const ended = nextEvent(launcher.events, "stopped", (e) => e.prefix === "persession");
      // A Streamable HTTP client ends its session with DELETE (the SDK's close() alone does not).
      await (a.client.transport as StreamableHTTPClientTransport).terminateSession();
      await a.client.close();
      assert.equal((await ended).reason, "session ended");
      assert.equal(launcher.running("persession"), 1);
    });

    it("shared: one upstream for every session", async () => {
      const a = await connect("streamable-http");
      const b = await connect("sse");
      const first = text(await a.client.callTool({ name: "shared__whoami", arguments: {} }));
      assert.equal(text(await b.client.callTool({ name: "shared__whoami", arguments: {} })), first);
      assert.equal(text(await stdioClient.client.callTool({ name: "shared__whoami", arguments: {} })), first);
      assert.equal(launcher.running("shared"), 1);
    });
  });

  describe("cancellation, time limits, crashes", () => {
    it("a cancelled call is cancelled upstream, and its per-call upstream is stopped", async () => {
      const c = await connect("streamable-http");
      const controller = new AbortController();
      const waiting = nextEvent(probeEvents, "waiting");
      const cancelled = nextEvent(probeEvents, "cancelled");
      const stopped = nextEvent(launcher.events, "stopped", (e) => e.prefix === "percall");
      const call = c.client.callTool({ name: "percall__wait-for-cancel", arguments: {} }, CallToolResultSchema, { signal: controller.signal });
      const outcome = call.then(() => "resolved", () => "rejected");
      const { instance } = await waiting;
      controller.abort("test cancels");
      assert.equal(await outcome, "rejected");
      assert.equal((await cancelled).instance, instance);
      assert.equal((await stopped).reason, "call cancelled");
    });

    it("a call over its server's time limit fails with TIMEOUT, is cancelled upstream, and its upstream is stopped", async () => {
      const c = await connect("streamable-http");
      const cancelled = nextEvent(probeEvents, "cancelled");
      const stopped = nextEvent(launcher.events, "stopped", (e) => e.prefix === "slow");
      await assert.rejects(c.client.callTool({ name: "slow__wait-for-cancel", arguments: {} }), /timed out after 0\.2 s.*TIMEOUT/);
      await cancelled;
      assert.equal((await stopped).reason, "call timed out");
    });

    it("an upstream that goes away during a call fails the call with CONTAINER_CRASHED, not a hang", async () => {
      const c = await connect("streamable-http");
      const stopped = nextEvent(launcher.events, "stopped", (e) => e.prefix === "percall");
      await assert.rejects(c.client.callTool({ name: "percall__crash", arguments: {} }), /closed during the call.*CONTAINER_CRASHED/);
      assert.equal((await stopped).reason, "closed by the upstream");
    });

    it("cancellation reaches a kept upstream as notifications/cancelled, and the upstream lives on", async () => {
      const c = await connect("streamable-http");
      const before = text(await c.client.callTool({ name: "shared__whoami", arguments: {} }));
      const controller = new AbortController();
      const waiting = nextEvent(probeEvents, "waiting");
      const cancelled = nextEvent(probeEvents, "cancelled");
      const call = c.client.callTool({ name: "shared__wait-for-cancel", arguments: {} }, CallToolResultSchema, { signal: controller.signal });
      const outcome = call.then(() => "resolved", () => "rejected");
      await waiting;
      controller.abort("test cancels");
      assert.equal(await outcome, "rejected");
      const seen = await cancelled;
      assert.equal(`instance ${seen.instance}`, before, "the shared upstream itself saw the cancellation");
      assert.equal(text(await c.client.callTool({ name: "shared__whoami", arguments: {} })), before, "and still serves");
    });
  });

  it("the per-server endpoint shows original tool names", async () => {
    const c = await connect("streamable-http", daemon.url as URL, "/servers/everything/mcp");
    const { tools } = await c.client.listTools();
    assert.ok(tools.some((t) => t.name === "echo"));
    assert.ok(tools.every((t) => !t.name.includes("__")));
    assert.equal(text(await c.client.callTool({ name: "echo", arguments: { message: "direct" } })), "Echo: direct");
    const res = await fetch(new URL("/servers/nope/mcp", daemon.url), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    assert.equal(res.status, 404);
  });

  it("hierarchical mode: finds a tool with search_tools and calls it with call_tool", async () => {
    const c = await connect("streamable-http", hierarchical.daemon.url as URL);
    const { tools } = await c.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["call_tool", "list_servers", "list_tools", "search_tools"]);
    const servers = JSON.parse(text(await c.client.callTool({ name: "list_servers", arguments: {} }))) as Array<{ server: string }>;
    assert.deepEqual(servers.map((s) => s.server).sort(), ["everything", "percall", "persession", "shared", "slow"]);
    const found = JSON.parse(text(await c.client.callTool({ name: "search_tools", arguments: { query: "echo" } }))) as Array<{ server: string; tool: string }>;
    assert.deepEqual(found[0], { ...found[0], server: "everything", tool: "echo" });
    const listed = JSON.parse(text(await c.client.callTool({ name: "list_tools", arguments: { server: "percall" } }))) as Array<{ name: string }>;
    assert.ok(listed.some((t) => t.name === "remember"));
    const result = await c.client.callTool({ name: "call_tool", arguments: { server: "everything", tool: "echo", arguments: { message: "meta" } } });
    assert.equal(text(result), "Echo: meta");
  });

  it("a registry change swaps the table: clients (HTTP and stdio) get tools/list_changed, new tools route, old versions retire", async () => {
    const c = await connect("streamable-http");
    const changes: number[] = [];
    let onChange: () => void = () => undefined;
    c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changes.push(changes.length + 1);
      onChange();
    });
    const changed = (): Promise<void> => new Promise((resolve) => (onChange = resolve));
    // The stdio session of the same daemon hears of it too.
    const stdioChanged = new Promise<void>((resolve) => stdioClient.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    // A kept upstream of the version about to change, to see it retire.
    const kept = nextEvent(launcher.events, "started", (e) => e.prefix === "persession");
    await c.client.callTool({ name: "persession__whoami", arguments: {} });
    const { id } = await kept;
    const retired = nextEvent(launcher.events, "stopped", (e) => e.id === id);

    const registry = join(dir, "flat", "registry");
    const added = changed();
    await writeRegistry(registry, [testServer("added", probePackage()), testServer("persession", probePackage(), { lifecycle: "per-session", denyTools: ["remember"] })]);
    await added;
    // One table swap may be announced before the reconciler applied the whole change: wait for the table we expect.
    await waitFor("the new table", async () => ((await c.client.listTools()).tools.some((t) => t.name === "added__whoami") || undefined));
    const names = (await c.client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes("persession__remember"), "the changed version's deny list applies");
    assert.match(text(await c.client.callTool({ name: "added__whoami", arguments: {} })), /^instance \d+$/);
    await stdioChanged;
    assert.match(text(await stdioClient.client.callTool({ name: "added__whoami", arguments: {} })), /^instance \d+$/);
    assert.equal((await retired).reason, "retired", "the old version's upstream retires");

    const removed = changed();
    await unlink(join(registry, "servers", "added.yaml"));
    await removed;
    await waitFor("the tool to go", async () => (!(await c.client.listTools()).tools.some((t) => t.name === "added__whoami") || undefined));
    await assert.rejects(c.client.callTool({ name: "added__whoami", arguments: {} }), /unknown tool/);
    assert.ok(changes.length >= 2);
  });
});
