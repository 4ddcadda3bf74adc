/**
 * The 2026-07-28 request headers on the gateway's Streamable HTTP endpoints (no Docker: an
 * in-process upstream whose `deploy` tool marks parameters with `x-mcp-header`): the standard
 * headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, Base64-encoded or not) and the
 * `Mcp-Param-*` headers a tool's schema asks for, on /mcp (`headers__deploy`) and on the
 * per-server endpoint (`deploy`). Requests are raw HTTP (node:http, so every header byte is ours),
 * and one SDK v2 client shows that a conforming client's requests pass.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Daemon } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { decodeHeaderValue } from "../../src/transports/mcp-headers.js";
import { InProcessLauncher } from "../support/in-process-launcher.js";
import { PARAM_HEADERS_PACKAGE, paramHeadersPackage, paramHeadersUpstream } from "../support/in-process-servers.js";
import { testServer, writeRegistry } from "../support/servers.js";

const KEY = "test-key-mcp-headers-0123456789";
const VERSION = "2026-07-28";
const META = { "io.modelcontextprotocol/protocolVersion": VERSION, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "headers-test", version: "1.0.0" } };

interface Reply {
  status: number;
  body: { result?: { content?: { text: string }[] }; error?: { code: number; message: string } };
}

const b64 = (text: string): string => `=?base64?${Buffer.from(text, "utf8").toString("base64")}?=`;

describe("2026-07-28 request headers", () => {
  let dir: string;
  let daemon: Daemon;
  let nextId = 1;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "mcp-router-headers-"));
    await writeRegistry(join(dir, "registry"), [testServer("headers", paramHeadersPackage())]);
    daemon = await startDaemon({
      registry: { dir: join(dir, "registry") },
      dataDir: join(dir, "data"),
      secrets: staticSecretSource({}),
      log: { level: "silent" },
      http: { host: "127.0.0.1", port: 0, apiKeys: [KEY] },
      launcher: new InProcessLauncher({ upstreams: { [PARAM_HEADERS_PACKAGE]: paramHeadersUpstream() } }),
    });
    await daemon.sync.started;
  });
  after(async () => {
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** POSTs one request; `headers` replace the standard ones it would send (a value of null drops a header). */
  const post = (path: string, method: string, params: Record<string, unknown>, headers: Record<string, string | null> = {}): Promise<Reply> => {
    const target = typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
    const all: Record<string, string | null> = {
      authorization: `Bearer ${KEY}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": VERSION,
      "mcp-method": method,
      ...(target !== undefined ? { "mcp-name": target } : {}),
      ...headers,
    };
    const body = JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params: { ...params, _meta: META } });
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, daemon.url), { method: "POST", headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null)) }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply["body"] }));
      });
      req.on("error", reject);
      req.end(body);
    });
  };
  const callTool = (path: string, name: string, args: Record<string, unknown>, headers: Record<string, string | null> = {}) => post(path, "tools/call", { name, arguments: args }, headers);
  const rejected = (reply: Reply, pattern: RegExp): void => {
    assert.equal(reply.status, 400, JSON.stringify(reply.body));
    assert.equal(reply.body.error?.code, -32020);
    assert.match(reply.body.error?.message ?? "", pattern);
  };
  const echoed = (reply: Reply): unknown => {
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return JSON.parse(reply.body.result?.content?.[0]?.text ?? "null");
  };

  it("decodes header values: plain, Base64 sentinel, and refuses broken ones", () => {
    assert.equal(decodeHeaderValue("  us-west1\t"), "us-west1");
    assert.equal(decodeHeaderValue(b64("Hello, 世界")), "Hello, 世界");
    assert.equal(decodeHeaderValue("=?base64?SGVsbG8"), "=?base64?SGVsbG8", "no suffix: a literal");
    assert.equal(decodeHeaderValue("=?base64?SGVsbG8?="), undefined, "missing padding");
    assert.equal(decodeHeaderValue("=?base64?SGVs!!!bG8=?="), undefined, "not the Base64 alphabet");
    assert.equal(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString("base64")}?=`), undefined, "not UTF-8");
    assert.equal(decodeHeaderValue("caf\u00e9"), undefined, "a byte outside visible ASCII");
  });

  it("requires MCP-Protocol-Version and Mcp-Method on a request that names its version", async () => {
    rejected(await post("mcp", "tools/list", {}, { "mcp-method": null }), /Mcp-Method header is missing/);
    rejected(await post("mcp", "tools/list", {}, { "mcp-protocol-version": null }), /MCP-Protocol-Version header is missing/);
    assert.equal((await post("mcp", "tools/list", {})).status, 200);
  });

  it("compares Mcp-Name with the body after decoding it, and refuses a broken or missing one", async () => {
    assert.deepEqual(echoed(await callTool("mcp", "headers__echo", { text: "hi" }, { "mcp-name": b64("headers__echo") })), { text: "hi" });
    assert.deepEqual(echoed(await callTool("mcp", "headers__echo", { text: "hi" }, { "mcp-name": "  headers__echo  " })), { text: "hi" });
    rejected(await callTool("mcp", "headers__echo", {}, { "mcp-name": b64("headers__deploy") }), /does not match params\.name/);
    rejected(await callTool("mcp", "headers__echo", {}, { "mcp-name": "=?base64?aGVhZGVycw?=" }), /broken/);
    rejected(await callTool("mcp", "headers__echo", {}, { "mcp-name": null }), /needs an Mcp-Name header/);
  });

  for (const [path, tool] of [["servers/headers/mcp", "deploy"], ["mcp", "headers__deploy"]] as const) {
    describe(`Mcp-Param-* on ${path}`, () => {
      it("serves a call whose headers mirror its arguments (plain, Base64, integer, boolean, nested)", async () => {
        const args = { region: "us-west1", replicas: 3, dryRun: false, target: { zone: "Zürich" }, note: "not mirrored" };
        const headers = { "Mcp-Param-Region": "us-west1", "Mcp-Param-Replicas": "3.0", "mcp-param-dry-run": "false", "MCP-PARAM-ZONE": b64("Zürich") };
        assert.deepEqual(echoed(await callTool(path, tool, args, headers)), args);
      });

      it("expects no header for an argument that is absent or null, and ignores headers it does not declare", async () => {
        assert.deepEqual(echoed(await callTool(path, tool, { region: null, note: "x" }, { "Mcp-Param-Other": "anything" })), { region: null, note: "x" });
      });

      it("refuses a missing, different or malformed header with 400 and -32020", async () => {
        rejected(await callTool(path, tool, { region: "us-west1" }), /arguments\.region is given but the Mcp-Param-Region header is missing/);
        rejected(await callTool(path, tool, { region: "us-west1" }, { "Mcp-Param-Region": "eu-north1" }), /Mcp-Param-Region "eu-north1" does not match arguments\.region "us-west1"/);
        rejected(await callTool(path, tool, { replicas: 3 }, { "Mcp-Param-Replicas": "4" }), /Mcp-Param-Replicas/);
        rejected(await callTool(path, tool, { dryRun: true }, { "Mcp-Param-Dry-Run": "True" }), /Mcp-Param-Dry-Run/);
        rejected(await callTool(path, tool, { target: { zone: "a" } }, { "Mcp-Param-Zone": "b" }), /arguments\.target\.zone/);
        rejected(await callTool(path, tool, { region: "Hello" }, { "Mcp-Param-Region": "=?base64?SGVsbG8?=" }), /broken/);
        rejected(await callTool(path, tool, { region: "Hello" }, { "Mcp-Param-Region": "=?base64?SGVs!!!bG8=?=" }), /broken/);
        rejected(await callTool(path, tool, { region: "caf\u00e9" }, { "Mcp-Param-Region": "caf\u00e9" }), /carries characters/);
        rejected(await callTool(path, tool, {}, { "Mcp-Param-Region": "=?base64?%%%?=" }), /broken/);
      });
    });
  }

  it("a tool without x-mcp-header parameters takes any Mcp-Param-* header", async () => {
    assert.deepEqual(echoed(await callTool("servers/headers/mcp", "echo", { text: "hi" }, { "Mcp-Param-Region": "caf\u00e9" })), { text: "hi" });
  });

  it("an SDK v2 client pinned to 2026-07-28 sends the headers the schema asks for, and is served", async () => {
    const client = new Client({ name: "headers-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: VERSION } } });
    await client.connect(new StreamableHTTPClientTransport(new URL("mcp", daemon.url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    try {
      const listed = (await client.listTools()).tools.find((t) => t.name === "headers__deploy");
      assert.equal((listed?.inputSchema.properties?.region as Record<string, unknown> | undefined)?.["x-mcp-header"], "Region");
      const args = { region: " padded ", replicas: 2, dryRun: true, target: { zone: "b" } };
      const result = await client.callTool({ name: "headers__deploy", arguments: args });
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]?.text ?? "null"), args);
    } finally {
      await client.close();
    }
  });
});
