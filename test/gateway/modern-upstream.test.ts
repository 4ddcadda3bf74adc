/**
 * The modern hop (no Docker): a remote upstream that speaks 2026-07-28 and 2025
 * (test/support/conformance-server.ts) behind the daemon, reached by a 2026 client and a 2025
 * client. What reaches the upstream is recorded at the fetch boundary the RemoteLauncher uses.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { pino } from "pino";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { RemoteLauncher } from "../../src/launch/remote/remote-launcher.js";
import { DEFAULT_POLICY } from "../../src/registry/policy.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import type { ConformanceServer } from "../support/conformance-server.js";
import { startConformanceServer } from "../support/conformance-server.js";

interface Sent {
  http: string;
  rpc: string | undefined;
}

const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
};

describe("a 2026-07-28 remote upstream through the gateway (the modern hop)", () => {
  let upstream: ConformanceServer;
  let daemon: Daemon;
  let launcher: RemoteLauncher;
  let dir: string;
  const sent: Sent[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    let rpc: string | undefined;
    if (typeof init?.body === "string") {
      try {
        rpc = (JSON.parse(init.body) as { method?: string }).method ?? "(response)";
      } catch {
        rpc = undefined;
      }
    }
    sent.push({ http: init?.method ?? "GET", rpc });
    return fetch(input, init);
  };
  const rpcs = (method: string): number => sent.filter((s) => s.rpc === method).length;
  let endpoint: URL;

  before(async () => {
    upstream = await startConformanceServer();
    dir = await mkdtemp(join(tmpdir(), "mcp-router-modern-"));
    await mkdir(join(dir, "registry", "servers"), { recursive: true });
    await writeFile(
      join(dir, "registry", "servers", "modern.yaml"),
      `name: dev.mcp-router.test/modern\ndescription: a 2026 upstream\nversion: 1.0.0\nremotes:\n  - type: streamable-http\n    url: ${upstream.url.href}\nrouter:\n  prefix: modern\n`,
    );
    const secrets = staticSecretSource({});
    launcher = new RemoteLauncher({ secrets, logger: pino({ level: "silent" }), fetch: recordingFetch });
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets,
      policy: { ...DEFAULT_POLICY, network: { bridge: false, privateTargets: true } },
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: undefined },
      launcher,
    });
    await daemon.sync.started;
    assert.deepEqual(daemon.status().servers.map((s) => s.reason), ["Applied"]);
    endpoint = new URL("servers/modern/mcp", daemon.url);
  });

  after(async () => {
    await daemon?.close();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("probed the era once, at prepare", () => {
    assert.equal(launcher.probes, 1);
    assert.equal(rpcs("server/discover"), 1, "one server/discover");
  });

  it("the catalog on disk keeps the era found at discovery, with the upstream's server/discover answer", async () => {
    const files = await readdir(join(dir, "data", "catalogs"));
    assert.equal(files.length, 1);
    const catalog = JSON.parse(await readFile(join(dir, "data", "catalogs", files[0] as string), "utf8")) as { era?: { kind: string; discover?: { supportedVersions: string[] } } };
    assert.equal(catalog.era?.kind, "modern");
    assert.ok(catalog.era?.discover?.supportedVersions.includes("2026-07-28"));
    assert.equal(launcher.eraOf({ hash: "never-probed" } as never), undefined, "no verdict for a version never probed");
  });

  it("a 2026 client's calls reach the upstream as single requests: no initialize, no session, no DELETE", async () => {
    sent.length = 0;
    const client = new ModernClient({ name: "modern-caller", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new ModernTransport(endpoint));
    try {
      for (let i = 0; i < 3; i++) {
        const result = await client.callTool({ name: "test_simple_text", arguments: {} });
        assert.match(JSON.stringify(result.content), /simple text response/);
      }
    } finally {
      await client.close();
    }
    assert.equal(rpcs("tools/call"), 3);
    assert.equal(rpcs("initialize"), 0, "no initialize on the modern hop");
    assert.equal(rpcs("server/discover"), 0, "the verdict is reused: no probe per request");
    assert.deepEqual(
      sent.filter((s) => s.http !== "POST"),
      [],
      "no GET stream, no DELETE",
    );
  });

  it("passes the upstream's input_required through with its own keys; the retry goes back to it", async () => {
    const post = async (params: Record<string, unknown>): Promise<{ status: number; body: { result?: Record<string, unknown>; error?: { code: number } } }> => {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "test_input_required_result_elicitation" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "test_input_required_result_elicitation", arguments: {}, ...params } }),
      });
      return { status: res.status, body: (await res.json()) as never };
    };
    const first = await post({ _meta: META });
    assert.equal(first.body.result?.resultType, "input_required");
    const requests = first.body.result?.inputRequests as Record<string, { method: string }>;
    assert.deepEqual(Object.keys(requests), ["user_name"], "the upstream's own key");
    assert.equal(requests.user_name?.method, "elicitation/create");
    const requestState = first.body.result?.requestState;
    assert.equal(typeof requestState, "string");
    const second = await post({ _meta: META, requestState, inputResponses: { user_name: { action: "accept", content: { name: "Ada" } } } });
    assert.equal(second.body.result?.resultType, "complete");
    assert.match(JSON.stringify(second.body.result?.content), /Hello, Ada!/);

    // A state altered on the way is refused by the gateway, before the upstream sees it.
    const altered = await post({ _meta: META, requestState: `${String(requestState)}x`, inputResponses: {} });
    assert.equal(altered.body.error?.code, -32602);

    // Without the capability the question needs, the upstream's -32021 reaches the client as a 400.
    const missing = await post({ _meta: { ...META, "io.modelcontextprotocol/clientCapabilities": {} } });
    assert.equal(missing.body.error?.code, -32021);
    assert.equal(missing.status, 400);
  });

  it("a 2025 client keeps a 2025 session with an upstream that speaks both eras; the verdict is still reused", async () => {
    sent.length = 0;
    const client = new Client({ name: "legacy-caller", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(endpoint));
    try {
      const result = await client.callTool({ name: "test_simple_text", arguments: {} });
      assert.match(JSON.stringify(result.content), /simple text response/);
    } finally {
      await client.close();
    }
    assert.equal(rpcs("initialize"), 1, "one upstream session for the 2025 client");
    assert.equal(rpcs("server/discover"), 0);
    assert.equal(launcher.probes, 1, "still one probe for this server version");
  });
});
