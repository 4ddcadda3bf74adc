/**
 * The gateway over Streamable HTTP and legacy SSE, with server-everything and server-memory in
 * real containers behind it, driven by the SDK's real client (and the MCP Inspector CLI): what
 * needs a container per call, and the HTTP endpoint's guards. The protocol behaviour (passthrough,
 * resources, prompts, the per-server endpoint, hierarchical mode) is in gateway-behaviour.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import Docker from "dockerode";
import { pino } from "pino";
import type { GatewayRuntime } from "../../src/gateway/gateway-runtime.js";
import { startGatewayRuntime } from "../../src/gateway/gateway-runtime.js";
import type { HttpGateway } from "../../src/transports/http-server.js";
import { startHttpGateway } from "../../src/transports/http-server.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { describeWhen, dockerAvailable, ensureTestImages, listOurContainers, testDataDir } from "../support/docker.js";
import type { TestClient } from "./fixture.js";
import { connectClient, containers, defineContainerCallTests, testServers } from "./fixture.js";

const OWNER = "test-gateway-http";
const KEY = "test-key-0123456789abcdef";
const hasDocker = await dockerAvailable();
if (!hasDocker && process.env.CI) throw new Error("Docker engine unavailable under CI: run .ci/docker-up.sh before the tests");
const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const auth = { Authorization: `Bearer ${KEY}` };

describeWhen(hasDocker, "gateway over HTTP (real containers)", {}, () => {
  let launcher: DockerLauncher;
  let runtime: GatewayRuntime;
  let http: HttpGateway;
  let openHttp: HttpGateway;
  let dataDir: string;
  const clients: TestClient[] = [];

  function transportFor(kind: "streamable-http" | "sse", base: URL, path = "/mcp", headers: Record<string, string> = auth): Transport {
    if (kind === "streamable-http") return new StreamableHTTPClientTransport(new URL(path, base), { requestInit: { headers } });
    return new SSEClientTransport(new URL("/sse", base), {
      requestInit: { headers },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
    });
  }

  async function connect(kind: "streamable-http" | "sse", base: URL = http.url, path = "/mcp"): Promise<TestClient> {
    const c = await connectClient(transportFor(kind, base, path));
    clients.push(c);
    return c;
  }

  before(async () => {
    const images = await ensureTestImages();
    const docker = new Docker();
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    dataDir = await mkdtemp(join(tmpdir(), "mcp-router-gw-"));
    launcher = await DockerLauncher.create({
      docker,
      logger,
      secrets: staticSecretSource({}),
      dataDir: testDataDir(),
      owner: OWNER,
      baseImages: { node: images.nodeBase },
      pool: false,
    });
    const { everything, memory } = testServers();
    runtime = await startGatewayRuntime({ servers: [everything, memory], launcher, dataDir, logger });
    await runtime.discovery.done;
    assert.deepEqual(Object.fromEntries(runtime.discovery.failed()), {}, "both catalogs discovered");
    http = await startHttpGateway({ gateway: runtime.gateway, logger, host: "127.0.0.1", port: 0, apiKeys: [KEY], readiness: runtime.readiness });
    openHttp = await startHttpGateway({ gateway: runtime.gateway, logger, host: "127.0.0.1", port: 0, apiKeys: undefined });
  });

  after(async () => {
    for (const c of clients) await c.client.close().catch(() => undefined);
    await http?.close();
    await openHttp?.close();
    await runtime?.gateway.close();
    await launcher?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    assert.deepEqual(await containers(OWNER), [], "no container left");
  });

  for (const kind of ["streamable-http", "sse"] as const) {
    describe(kind, () => {
      let c: TestClient;
      before(async () => {
        c = await connect(kind);
      });

      defineContainerCallTests(kind, () => c, OWNER);
    });
  }

  it("rejects a missing token, a wrong token, a foreign Origin and a foreign Host", async () => {
    const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } });
    const post = (headers: Record<string, string>) =>
      fetch(new URL("/mcp", http.url), { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: init });
    const none = await post({});
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
    assert.equal((await post({ Authorization: "Bearer wrong-key-wrong-key-000" })).status, 401);
    assert.equal((await post({ ...auth, Origin: "https://evil.example" })).status, 403);
    const sse = await fetch(new URL("/sse", http.url), { headers: { Origin: "https://evil.example", ...auth } });
    assert.equal(sse.status, 403);
    assert.equal((await fetch(new URL("/sse", http.url))).status, 401);
    // DNS rebinding: a request naming another host is refused even with a valid key.
    const rebound = await new Promise<number>((resolve, reject) => {
      import("node:http").then(({ request }) => {
        const req = request(new URL("/mcp", http.url), { method: "POST", headers: { ...auth, host: "evil.example", "content-type": "application/json" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end(init);
      }, reject);
    });
    assert.equal(rebound, 403);
    await assert.rejects(connectClient(transportFor("streamable-http", http.url, "/mcp", { Authorization: "Bearer nope-nope-nope-nope" })));
    // Health endpoints answer without auth.
    assert.equal((await fetch(new URL("/healthz", http.url))).status, 200);
    const ready = await fetch(new URL("/readyz", http.url));
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { ready: boolean }).ready, true);
  });

  it("refuses --no-auth on a non-loopback bind", async () => {
    await assert.rejects(startHttpGateway({ gateway: runtime.gateway, logger, host: "0.0.0.0", port: 0, apiKeys: undefined }), /NO_AUTH_NOT_LOOPBACK/);
  });

  it("the MCP Inspector CLI lists and calls a tool through the endpoint", async () => {
    const require = createRequire(import.meta.url);
    const cli = join(dirname(require.resolve("@modelcontextprotocol/inspector-cli/package.json")), "build", "index.js");
    const inspect = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [cli, new URL("/mcp", openHttp.url).href, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`inspector failed: ${stderr || error.message}`));
          else resolve(stdout);
        });
      });
    const listed = JSON.parse(await inspect(["--method", "tools/list"])) as { tools: Array<{ name: string }> };
    assert.ok(listed.tools.some((t) => t.name === "everything__echo"));
    const called = JSON.parse(await inspect(["--method", "tools/call", "--tool-name", "everything__echo", "--tool-arg", "message=inspected"])) as { content: Array<{ text: string }> };
    assert.equal(called.content[0]?.text, "Echo: inspected");
  });
});
