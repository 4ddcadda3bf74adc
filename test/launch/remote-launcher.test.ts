/**
 * The RemoteLauncher against real upstreams started here: server-everything in Streamable HTTP
 * mode and in SSE mode as child processes on local ports, some behind a small recording proxy
 * that shows what reached the upstream (headers, sessions, cancellations). Then the real daemon
 * (sync + gateway) serving remote registry files through the CompositeLauncher.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, request } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { pino } from "pino";
import type { Logger } from "pino";
import { CompositeLauncher, launcherKind } from "../../src/launch/composite-launcher.js";
import { isLaunchError } from "../../src/launch/errors.js";
import { waitForPort } from "../../src/launch/docker/http-endpoint.js";
import type { Lease } from "../../src/launch/launcher.js";
import { toolCall, toolList } from "../../src/launch/call-tool.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import { RemoteLauncher } from "../../src/launch/remote/remote-launcher.js";
import type { RemoteLauncherOptions } from "../../src/launch/remote/remote-launcher.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { RegistryFile, RegistryServer, Remote, Router } from "../../src/registry/types.js";
import { requireDocker } from "../support/docker.js";
import { startTestDaemon } from "../support/daemon.js";
import { connectClient, SAMPLED_TEXT, text, waitFor } from "../gateway/fixture.js";
import { npmPackage, testServer } from "../support/servers.js";

const OWNER = "test-remote-launcher";
const require = createRequire(import.meta.url);
const EVERYTHING = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
const TOKEN = "tok-3f9a1c7e5b2d8046";
const API_KEY = "key-91be44d0c3a7f215";
const URL_KEY = "url-5d2e7a9c0b4f1e36";

type Kind = Remote["type"];

// ---- real upstreams ------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

interface Upstream {
  kind: Kind;
  port: number;
  /** The MCP endpoint: /mcp (Streamable HTTP) or /sse (SSE). */
  url: string;
  /** Kills the process (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

/** server-everything in `streamableHttp` or `sse` mode as a child process on a local port (its PORT variable). */
async function startEverything(kind: Kind, port?: number): Promise<Upstream> {
  const chosen = port ?? (await freePort());
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(process.execPath, [EVERYTHING, kind === "sse" ? "sse" : "streamableHttp"], { env: { ...process.env, PORT: String(chosen) }, stdio: ["ignore", "ignore", "pipe"] });
    proc.stderr?.resume();
    child = proc;
    await waitForPort("127.0.0.1", chosen, Date.now() + 20_000);
  };
  await start();
  return {
    kind,
    port: chosen,
    url: `http://127.0.0.1:${chosen}${kind === "sse" ? "/sse" : "/mcp"}`,
    async kill() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, "exit");
      proc.kill("SIGKILL");
      await exited;
    },
    restart: start,
  };
}

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Proxy {
  url(path: string): string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A local HTTP proxy that records every request (headers and body) and forwards it, streaming the answer back. */
async function startRecordingProxy(upstreamPort: number): Promise<Proxy> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: body.toString("utf8") });
      const out = request({ host: "127.0.0.1", port: upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}` } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      res.on("close", () => out.destroy());
      out.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** JSON-RPC methods in a recorded POST body. */
function methods(r: Recorded): string[] {
  if (r.method !== "POST" || !r.body) return [];
  try {
    const parsed = JSON.parse(r.body) as { method?: string } | Array<{ method?: string }>;
    return (Array.isArray(parsed) ? parsed : [parsed]).map((m) => m.method ?? "(response)");
  } catch {
    return [];
  }
}

/** The upstream session a recorded request belongs to: Mcp-Session-Id (Streamable HTTP) or ?sessionId= (SSE). */
function upstreamSession(kind: Kind, r: Recorded): string | undefined {
  if (kind === "streamable-http") return r.headers["mcp-session-id"] as string | undefined;
  return new URL(r.path, "http://x").searchParams.get("sessionId") ?? undefined;
}

// ---- registry entries ----------------------------------------------------------------------

function remoteServer(prefix: string, remote: Remote, router: Omit<Router, "prefix"> = {}): RegistryServer {
  const entry: RegistryFile = { name: `dev.mcp-router.test/${prefix}`, description: `remote ${prefix}`, version: "1.0.0", remotes: [remote], router: { prefix, ...router } };
  return { prefix, name: entry.name, file: `servers/${prefix}.yaml`, hash: createHash("sha256").update(JSON.stringify(entry)).digest("hex"), entry };
}

/** A remote whose Authorization and X-Api-Key headers come from the secret source. */
function securedRemote(type: Kind, url: string): Remote {
  return {
    type,
    url,
    headers: [
      { name: "Authorization", value: "Bearer {UPSTREAM_TOKEN}", variables: { UPSTREAM_TOKEN: { isSecret: true, isRequired: true } } },
      { name: "X-Api-Key", isSecret: true, isRequired: true },
      { name: "X-Client", value: "mcp-router-test" },
    ],
  };
}

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: "debug" }, { write: (line: string) => void lines.push(line) }), lines };
}

const secrets = staticSecretSource({ UPSTREAM_TOKEN: TOKEN, X_API_KEY: API_KEY, URL_KEY });

async function call(lease: Lease, name: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<CallToolResult> {
  return lease.run((client, runSignal) => toolCall(client, { name, arguments: args }, { signal: runSignal }), signal);
}

async function echo(launcher: RemoteLauncher, server: RegistryServer, sessionId: string, message: string): Promise<string> {
  const lease = await launcher.acquire(server, { sessionId });
  try {
    return text(await call(lease, "echo", { message }));
  } finally {
    lease.release();
  }
}

function opened(launcher: RemoteLauncher, server: RegistryServer): { running: number; started: number } | undefined {
  const s = launcher.stats().servers.find((x) => x.revision === server.hash);
  return s ? { running: s.running, started: s.started } : undefined;
}

// ---- the launcher ----------------------------------------------------------------------------

describe("RemoteLauncher against real upstreams", () => {
  const upstreams: Partial<Record<Kind, Upstream>> = {};
  const launchers: RemoteLauncher[] = [];
  const proxies: Proxy[] = [];
  const log = capturingLogger();

  function newLauncher(extra: Partial<RemoteLauncherOptions> = {}): RemoteLauncher {
    const launcher = new RemoteLauncher({ logger: log.logger, secrets, ...extra });
    launchers.push(launcher);
    return launcher;
  }

  async function proxyFor(kind: Kind): Promise<Proxy> {
    const proxy = await startRecordingProxy((upstreams[kind] as Upstream).port);
    proxies.push(proxy);
    return proxy;
  }

  const endpoint = (kind: Kind): string => (kind === "sse" ? "/sse" : "/mcp");

  before(async () => {
    [upstreams["streamable-http"], upstreams.sse] = await Promise.all([startEverything("streamable-http"), startEverything("sse")]);
  });

  after(async () => {
    for (const l of launchers) await l.close();
    for (const p of proxies) await p.close();
    for (const u of Object.values(upstreams)) await u?.kill();
    const leaked = log.lines.filter((l) => l.includes(TOKEN) || l.includes(API_KEY) || l.includes(URL_KEY));
    assert.deepEqual(leaked, [], "no secret value in any log line");
    assert.ok(log.lines.length > 0, "the launchers logged at debug level");
  });

  for (const kind of ["streamable-http", "sse"] as const) {
    describe(kind, () => {
      it("prepares, lists and calls tools", async () => {
        const launcher = newLauncher();
        const server = remoteServer(`list-${kind}`, { type: kind, url: (upstreams[kind] as Upstream).url });
        const progress: string[] = [];
        await launcher.prepare(server, (m) => progress.push(m));
        assert.match(progress.join("\n"), new RegExp(`${kind}`));
        const lease = await launcher.acquire(server, { sessionId: "s1" });
        try {
          assert.equal(lease.containerId, undefined);
          const { tools } = await lease.run((client, signal) => toolList(client, undefined, { signal }));
          assert.ok(tools.some((t) => t.name === "echo"), tools.map((t) => t.name).join(","));
          assert.equal(text(await call(lease, "echo", { message: `over ${kind}` })), `Echo: over ${kind}`);
          assert.equal(text(await call(lease, "get-sum", { a: 2, b: 3 })), "The sum of 2 and 3 is 5.");
        } finally {
          lease.release();
        }
        assert.equal(launcher.stats().containers, 0);
        assert.deepEqual(opened(launcher, server), { running: 1, started: 1 });
        await launcher.endSession("s1");
        assert.deepEqual(opened(launcher, server), { running: 0, started: 1 });
      });

      it("sends header values from the secret source on every request", async () => {
        const proxy = await proxyFor(kind);
        const launcher = newLauncher();
        const server = remoteServer(`hdr-${kind}`, securedRemote(kind, proxy.url(endpoint(kind))));
        await launcher.prepare(server);
        assert.equal(await echo(launcher, server, "h1", "with headers"), "Echo: with headers");
        await launcher.endSession("h1");
        const seen = proxy.requests;
        assert.ok(seen.some((r) => r.method === "GET"), "the event stream was opened");
        assert.ok(seen.filter((r) => methods(r).includes("tools/call")).length === 1);
        for (const r of seen) {
          assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, `${r.method} ${r.path}`);
          assert.equal(r.headers["x-api-key"], API_KEY, `${r.method} ${r.path}`);
          assert.equal(r.headers["x-client"], "mcp-router-test");
        }
      });

      it("keeps one upstream session per client session, and ends it with the client session", async () => {
        const proxy = await proxyFor(kind);
        const launcher = newLauncher();
        const server = remoteServer(`sess-${kind}`, { type: kind, url: proxy.url(endpoint(kind)) });
        // prepare probes the era once (a 2025 upstream: server/discover refused, then one initialize, ended at once).
        await launcher.prepare(server);
        if (kind === "streamable-http") assert.equal(proxy.requests.filter((r) => methods(r).includes("server/discover")).length, 1, "the era probed once");
        proxy.requests.length = 0;
        assert.equal(await echo(launcher, server, "client-a", "a1"), "Echo: a1");
        assert.equal(await echo(launcher, server, "client-a", "a2"), "Echo: a2");
        assert.equal(await echo(launcher, server, "client-b", "b1"), "Echo: b1");
        const calls = proxy.requests.filter((r) => methods(r).includes("tools/call"));
        assert.equal(calls.length, 3);
        const [a1, a2, b1] = calls.map((r) => upstreamSession(kind, r));
        assert.ok(a1, "calls carry an upstream session");
        assert.equal(a2, a1, "the same client session reuses its upstream session");
        assert.notEqual(b1, a1, "another client session gets its own upstream session");
        assert.equal(proxy.requests.filter((r) => methods(r).includes("initialize")).length, 2, "two sessions initialized, no more");
        assert.equal(proxy.requests.filter((r) => methods(r).includes("server/discover")).length, 0, "the verdict is reused: no probe per session");
        assert.deepEqual(opened(launcher, server), { running: 2, started: 2 });
        await launcher.endSession("client-a");
        assert.deepEqual(opened(launcher, server), { running: 1, started: 2 });
        if (kind === "streamable-http") {
          assert.ok(proxy.requests.some((r) => r.method === "DELETE" && r.headers["mcp-session-id"] === a1), "the ended session was terminated upstream");
        }
        // The next call of the ended client session opens a new upstream session.
        assert.equal(await echo(launcher, server, "client-a", "a3"), "Echo: a3");
        const a3 = upstreamSession(kind, proxy.requests.filter((r) => methods(r).includes("tools/call")).at(-1) as Recorded);
        assert.notEqual(a3, a1);
      });

      it("reconnects after the upstream restarts; while it is down, calls fail with a clear error", async () => {
        const upstream = await startEverything(kind);
        try {
          const launcher = newLauncher();
          const server = remoteServer(`restart-${kind}`, { type: kind, url: upstream.url });
          assert.equal(await echo(launcher, server, "r1", "before"), "Echo: before");
          await upstream.kill();
          const down = await echo(launcher, server, "r1", "down").then(
            () => assert.fail("a call to a stopped upstream succeeded"),
            (e: unknown) => e,
          );
          assert.ok(isLaunchError(down, "CONTAINER_START_FAILED"), String(down));
          assert.match((down as Error).message, new RegExp(`127\\.0\\.0\\.1:${upstream.port}`));
          assert.match((down as Error).message, /ECONNREFUSED|refused|fetch failed/i);
          await upstream.restart();
          assert.equal(await echo(launcher, server, "r1", "after"), "Echo: after");
          assert.equal(opened(launcher, server)?.running, 1);
          assert.ok((opened(launcher, server)?.started ?? 0) >= 2, "a new upstream session was opened");
        } finally {
          await upstream.kill();
        }
      });
    });
  }

  it("a session the restarted upstream does not know is reopened and the request sent once more", async () => {
    // Streamable HTTP only: after a restart, the old Mcp-Session-Id is rejected before the request runs.
    const upstream = await startEverything("streamable-http");
    const proxy = await startRecordingProxy(upstream.port);
    proxies.push(proxy);
    try {
      const launcher = newLauncher();
      const server = remoteServer("resend", { type: "streamable-http", url: proxy.url("/mcp") });
      await launcher.prepare(server);
      proxy.requests.length = 0;
      assert.equal(await echo(launcher, server, "x", "one"), "Echo: one");
      await upstream.kill();
      await upstream.restart();
      assert.equal(await echo(launcher, server, "x", "two"), "Echo: two");
      const calls = proxy.requests.filter((r) => methods(r).includes("tools/call"));
      const sessions = calls.map((r) => r.headers["mcp-session-id"]);
      assert.equal(calls.length, 3, "the rejected call was sent once more");
      assert.equal(sessions[1], sessions[0], "first sent on the old session");
      assert.notEqual(sessions[2], sessions[0], "then on a new one");
      assert.equal(proxy.requests.filter((r) => methods(r).includes("initialize")).length, 2);
    } finally {
      await upstream.kill();
    }
  });

  it("an upstream that is down fails prepare and acquire with the URL, and secrets stay out of the message", async () => {
    const port = await freePort();
    const launcher = newLauncher();
    const remote = securedRemote("streamable-http", `http://127.0.0.1:${port}/mcp?key={URL_KEY}`);
    remote.variables = { URL_KEY: { isSecret: true, isRequired: true } };
    const server = remoteServer("down", remote);
    for (const attempt of [launcher.prepare(server), launcher.acquire(server, { sessionId: "d" })]) {
      const error = await attempt.then(
        () => assert.fail("succeeded against a closed port"),
        (e: unknown) => e as Error,
      );
      assert.ok(isLaunchError(error), String(error));
      assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${port}/mcp\\?key=\\*\\*\\*`));
      for (const secret of [TOKEN, API_KEY, URL_KEY]) assert.ok(!JSON.stringify({ m: error.message, d: (error as { data?: unknown }).data }).includes(secret));
    }
  });

  it("an upstream that accepts connections but never answers gives an error, not a hang", async () => {
    const silent = createServer(() => undefined);
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      const launcher = newLauncher({ connectTimeoutMs: 500 });
      const server = remoteServer("silent", { type: "streamable-http", url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/mcp` });
      await assert.rejects(launcher.prepare(server), (e: Error) => isLaunchError(e, "PREPARE_FAILED") && /no answer within 0\.5 s/.test(e.message));
      await assert.rejects(launcher.acquire(server, { sessionId: "s" }), (e: Error) => isLaunchError(e, "CONTAINER_START_FAILED") && /no answer within 0\.5 s/.test(e.message));
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it("a missing required secret fails fast, naming it, before anything connects", async () => {
    const proxy = await proxyFor("streamable-http");
    const launcher = new RemoteLauncher({ logger: log.logger, secrets: staticSecretSource({ UPSTREAM_TOKEN: TOKEN }, "the test's secrets") });
    launchers.push(launcher);
    const server = remoteServer("nosecret", securedRemote("streamable-http", proxy.url("/mcp")));
    for (const attempt of [launcher.prepare(server), launcher.acquire(server, { sessionId: "n" })]) {
      await assert.rejects(attempt, (e: Error) => isLaunchError(e, "SECRET_MISSING") && /X_API_KEY/.test(e.message) && /the test's secrets/.test(e.message) && !e.message.includes(TOKEN));
    }
    assert.equal(proxy.requests.length, 0, "nothing was sent upstream");
  });

  it("a timeout and an abort cancel the upstream request; the session stays usable", async () => {
    const proxy = await proxyFor("streamable-http");
    const launcher = newLauncher();
    const server = remoteServer("slow", { type: "streamable-http", url: proxy.url("/mcp") }, { limits: { timeoutSeconds: 1 } });
    const lease = await launcher.acquire(server, { sessionId: "t" });
    const cancelled = (): Recorded[] => proxy.requests.filter((r) => methods(r).includes("notifications/cancelled"));
    try {
      await assert.rejects(call(lease, "trigger-long-running-operation", { duration: 30, steps: 30 }), (e: Error) => isLaunchError(e, "TIMEOUT"));
      await waitFor("notifications/cancelled after the timeout", () => (cancelled().length === 1 ? true : undefined));
      const controller = new AbortController();
      const running = call(lease, "trigger-long-running-operation", { duration: 30, steps: 30 }, controller.signal);
      await waitFor("the second call upstream", () => (proxy.requests.filter((r) => methods(r).includes("tools/call")).length === 2 ? true : undefined));
      controller.abort();
      await assert.rejects(running, (e: Error) => isLaunchError(e, "ABORTED"));
      await waitFor("notifications/cancelled after the abort", () => (cancelled().length === 2 ? true : undefined));
      assert.equal(text(await call(lease, "echo", { message: "still here" })), "Echo: still here");
      const sessions = new Set(proxy.requests.filter((r) => methods(r).includes("tools/call")).map((r) => r.headers["mcp-session-id"]));
      assert.equal(sessions.size, 1, "all on one upstream session");
    } finally {
      lease.release();
    }
  });

  it("closes idle sessions, and a retired version's sessions", async () => {
    const proxy = await proxyFor("streamable-http");
    const idle = newLauncher({ sessionIdleMs: 50 });
    const server = remoteServer("idle", { type: "streamable-http", url: proxy.url("/mcp") });
    await idle.prepare(server);
    proxy.requests.length = 0;
    assert.equal(await echo(idle, server, "i", "idle"), "Echo: idle");
    await waitFor("the idle session to close", () => (opened(idle, server)?.running === 0 ? true : undefined));
    await waitFor("its DELETE upstream", () => (proxy.requests.some((r) => r.method === "DELETE") ? true : undefined));

    const kept = newLauncher();
    await kept.prepare(server);
    proxy.requests.length = 0;
    assert.equal(await echo(kept, server, "k", "kept"), "Echo: kept");
    const held = await kept.acquire(server, { sessionId: "held" });
    await kept.retire(server);
    assert.equal(opened(kept, server)?.running, 1, "the session in use stays until released");
    assert.equal(text(await call(held, "echo", { message: "in use" })), "Echo: in use");
    held.release();
    await waitFor("the retired version to be forgotten", () => (opened(kept, server) === undefined ? true : undefined));
    await waitFor("both sessions of the retired version ended upstream", () => (proxy.requests.filter((r) => r.method === "DELETE").length === 2 ? true : undefined));
  });
});

// ---- the composite launcher ------------------------------------------------------------------

describe("CompositeLauncher", () => {
  it("tells the kinds apart", () => {
    const remote = remoteServer("r", { type: "sse", url: "http://127.0.0.1:1/sse" });
    const docker = testServer("d", npmPackage("@modelcontextprotocol/server-everything"));
    const both: RegistryServer = { ...docker, entry: { ...docker.entry, remotes: [{ type: "sse", url: "http://127.0.0.1:1/sse" }] } };
    const build = remoteServer("b", { type: "sse", url: "http://127.0.0.1:1/sse" }, { build: { dockerfile: "images/x/Dockerfile" } as never });
    const openapi = remoteServer("o", { type: "sse", url: "http://127.0.0.1:1/sse" }, { openapi: { spec: "apis/x.yaml" } });
    assert.deepEqual([remote, docker, both, build, openapi].map(launcherKind), ["remote", "docker", "docker", "docker", "openapi"]);
  });

  it("dispatches by kind, says which launcher is missing, and merges stats", async () => {
    const upstream = await startEverything("streamable-http");
    const remoteLauncher = new RemoteLauncher({ logger: pino({ level: "silent" }), secrets });
    const composite = new CompositeLauncher({ remote: remoteLauncher });
    try {
      const server = remoteServer("composite", { type: "streamable-http", url: upstream.url });
      await composite.prepare(server);
      const lease = await composite.acquire(server, { sessionId: "c" });
      assert.equal(text(await call(lease, "echo", { message: "dispatched" })), "Echo: dispatched");
      lease.release();
      assert.equal(composite.stats().servers.find((s) => s.prefix === "composite")?.running, 1);
      await composite.endSession("c");
      assert.equal(composite.stats().servers.find((s) => s.prefix === "composite")?.running, 0);
      const openapi = remoteServer("petstore", { type: "sse", url: "http://127.0.0.1:1/sse" }, { openapi: { spec: "apis/petstore.yaml" } });
      await assert.rejects(composite.prepare(openapi), (e: Error) => isLaunchError(e, "PREPARE_FAILED") && /petstore is an OpenAPI server/.test(e.message) && /no openapi launcher/.test(e.message));
      const docker = testServer("boxed", npmPackage("@modelcontextprotocol/server-everything"));
      await assert.rejects(composite.acquire(docker, { sessionId: "c" }), (e: Error) => isLaunchError(e, "PREPARE_FAILED") && /no docker launcher/.test(e.message));
    } finally {
      await composite.close();
      await upstream.kill();
    }
    await assert.rejects(remoteLauncher.acquire(remoteServer("late", { type: "sse", url: upstream.url }), { sessionId: "z" }), (e: Error) => isLaunchError(e, "LAUNCHER_CLOSED"));
  });
});

// ---- end to end: the daemon serving remote registry files ---------------------------------------

describe("the daemon serves remote servers through the composite launcher", () => {
  it("lists <prefix>__<tool>, calls tools, passes progress and sampling through, over both transports", async (t) => {
    if (!(await requireDocker(t))) return;
    const [http, sse] = await Promise.all([startEverything("streamable-http"), startEverything("sse")]);
    const proxy = await startRecordingProxy(http.port);
    const file = (prefix: string, type: Kind, url: string, headers = ""): string =>
      `name: dev.mcp-router.test/${prefix}\ndescription: remote server-everything over ${type}\nversion: 1.0.0\nremotes:\n  - type: ${type}\n    url: ${url}\n${headers}router:\n  prefix: ${prefix}\n`;
    const secretHeader = '    headers:\n      - name: Authorization\n        value: "Bearer {UPSTREAM_TOKEN}"\n        variables:\n          UPSTREAM_TOKEN: {isSecret: true, isRequired: true}\n';
    const daemon = await startTestDaemon(
      OWNER,
      {
        "remote-http.yaml": file("remote-http", "streamable-http", proxy.url("/mcp"), secretHeader),
        "remote-sse.yaml": file("remote-sse", "sse", sse.url),
      },
      {
        wrapLauncher: (docker) => new CompositeLauncher({ docker, remote: new RemoteLauncher({ logger: pino({ level: "silent" }), secrets }) }),
        // The upstreams run on loopback, and UPSTREAM_TOKEN is granted: the operator allows both.
        secrets,
        policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
      },
    );
    const transport = new SSEClientTransport(new URL("/sse", daemon.http.url), {
      requestInit: { headers: { authorization: `Bearer ${daemon.key}` } },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${daemon.key}` } }) },
    });
    const streamable = new StreamableHTTPClientTransport(new URL("mcp", daemon.http.url), { requestInit: { headers: { authorization: `Bearer ${daemon.key}` } } });
    const clients = [await connectClient(streamable), await connectClient(transport)];
    try {
      assert.deepEqual(Object.fromEntries(daemon.sync.status().servers.map((s) => [s.prefix, s.reason])), { "remote-http": "Applied", "remote-sse": "Applied" });
      for (const c of clients) {
        const names = (await c.client.listTools()).tools.map((tool) => tool.name);
        for (const prefix of ["remote-http", "remote-sse"]) {
          assert.ok(names.includes(`${prefix}__echo`), names.join(","));
          assert.equal(text(await c.client.callTool({ name: `${prefix}__echo`, arguments: { message: `to ${prefix}` } })), `Echo: to ${prefix}`);
          const progress: number[] = [];
          const done = await c.client.callTool({ name: `${prefix}__trigger-long-running-operation`, arguments: { duration: 0.6, steps: 3 } }, CallToolResultSchema, {
            onprogress: (p) => progress.push(p.progress),
          });
          assert.match(text(done), /Long running operation completed/);
          assert.deepEqual(progress, [1, 2, 3], `progress from ${prefix}`);
          const before = c.sampling;
          const sampled = await c.client.callTool({ name: `${prefix}__trigger-sampling-request`, arguments: { prompt: "say hi" } });
          assert.equal(c.sampling, before + 1, `sampling from ${prefix} reached the client`);
          assert.match(JSON.stringify(sampled), new RegExp(SAMPLED_TEXT));
        }
      }
      const proxied = proxy.requests.filter((r) => methods(r).includes("tools/call"));
      assert.ok(proxied.length >= 6);
      assert.ok(proxy.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`), "the secret header reached the upstream on every request");
      assert.equal(new Set(proxied.map((r) => r.headers["mcp-session-id"])).size, 2, "one upstream session per gateway client session");
    } finally {
      for (const c of clients) await c.client.close().catch(() => undefined);
      await daemon.close();
      await proxy.close();
      await http.kill();
      await sse.kill();
    }
  });
});
