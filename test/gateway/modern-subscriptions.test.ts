/**
 * Resource subscriptions on a 2026-only upstream (no Docker): a remote server that refuses 2025
 * openings (`createMcpHandler` with `legacy: "reject"`), so it has no `resources/subscribe`; the
 * gateway holds a `subscriptions/listen` stream on it for the URI instead. A 2025 client
 * (`resources/subscribe`) and a 2026 client (`resourceSubscriptions` on its own listen) both get
 * the upstream's update under the URI they know; after unsubscribing, the upstream's stream ends.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { McpHttpHandler } from "@modelcontextprotocol/server";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { pino } from "pino";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { RemoteLauncher } from "../../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { listenFetch } from "../support/serve-fetch.js";

const URI = "memo://board";
const KEY = "test-key-modern-subscriptions-01";

/** A 2026-only upstream with one subscribable resource; its `touch` tool publishes an update of it. */
async function startBoard(): Promise<{ url: URL; listens: () => number; close(): Promise<void> }> {
  let listens = 0;
  const handler: McpHttpHandler = createMcpHandler(
    () => {
      const server = new McpServer({ name: "board", version: "1.0.0" }, { capabilities: { resources: { subscribe: true }, tools: {} } });
      server.registerResource("board", URI, { description: "A board that changes" }, async (uri) => ({ contents: [{ uri: uri.href, text: "hello" }] }));
      server.registerTool("touch", { description: "Changes the board" }, async () => {
        handler.notify.resourceUpdated(URI);
        return { content: [{ type: "text", text: "touched" }] };
      });
      return server;
    },
    { legacy: "reject" },
  );
  // Counted from the bodies as they arrive: the listen requests this upstream received.
  const served = await listenFetch((request) => handler.fetch(request), {
    onRequest: (req) => {
      if (req.method === "POST") {
        req.on("data", (chunk: Buffer) => {
          if (chunk.toString("utf8").includes('"subscriptions/listen"')) listens += 1;
        });
      }
    },
  });
  return {
    url: new URL("/mcp", served.origin),
    listens: () => listens,
    close: async () => {
      await handler.close();
      await served.close();
    },
  };
}

describe("resource subscriptions on a 2026-only upstream (a listen stream held by the gateway)", () => {
  let board: Awaited<ReturnType<typeof startBoard>>;
  let daemon: Daemon;
  let dir: string;

  before(async () => {
    board = await startBoard();
    dir = await mkdtemp(join(tmpdir(), "mcp-router-modern-subs-"));
    await mkdir(join(dir, "registry", "servers"), { recursive: true });
    await writeFile(
      join(dir, "registry", "servers", "board.yaml"),
      `name: dev.mcp-router.test/board\ndescription: a 2026-only upstream\nversion: 1.0.0\nremotes:\n  - type: streamable-http\n    url: ${board.url.href}\nrouter:\n  prefix: board\n  lifecycle: shared\n`,
    );
    const secrets = staticSecretSource({});
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets,
      policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      launcher: new RemoteLauncher({ secrets, logger: pino({ level: "silent" }) }),
    });
    await daemon.sync.started;
    assert.deepEqual(daemon.status().servers.map((s) => [s.prefix, s.reason]), [["board", "Applied"]], JSON.stringify(daemon.status().servers));
  });

  after(async () => {
    await daemon?.close();
    await board?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const headers = { authorization: `Bearer ${KEY}` };

  it("2025 client: resources/subscribe becomes a listen stream upstream; the update arrives; unsubscribe ends it", async () => {
    const client = new Client({ name: "subs-2025", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL("mcp", daemon.url), { requestInit: { headers } }));
    try {
      const listensBefore = board.listens();
      const updated = new Promise<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
      await client.subscribeResource({ uri: `board+${URI}` });
      assert.equal(board.listens(), listensBefore + 1, "one listen stream opened upstream");
      await client.callTool({ name: "board__touch", arguments: {} });
      assert.equal(await updated, `board+${URI}`);
      await client.unsubscribeResource({ uri: `board+${URI}` });
    } finally {
      await client.close();
    }
  });

  it("2026 client: resourceSubscriptions on its listen reach the upstream the same way", async () => {
    const client = new ModernClient({ name: "subs-2026", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new ModernTransport(new URL("mcp", daemon.url), { requestInit: { headers } }));
    try {
      const updated = new Promise<string>((resolve) => client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params.uri)));
      const subscription = await client.listen({ resourceSubscriptions: [`board+${URI}`] });
      assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, [`board+${URI}`]);
      await client.callTool({ name: "board__touch", arguments: {} });
      assert.equal(await updated, `board+${URI}`);
      await subscription.close();
    } finally {
      await client.close();
    }
  });
});
