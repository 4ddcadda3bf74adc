/**
 * The conformance upstream (test/support/conformance-server.ts) seen through the SDK v2 client: a
 * 2025 client gets a session, a client pinned to 2026-07-28 gets stateless requests, and the
 * `input_required` rounds complete through the client's own request handlers on both. The full
 * conformance run is `scripts/conformance.ts` (CI), not part of `npm test`.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { ConformanceServer } from "../support/conformance-server.js";
import { startConformanceServer } from "../support/conformance-server.js";

type Era = "legacy" | "2026-07-28";

describe("conformance upstream", () => {
  let upstream: ConformanceServer;
  const clients: Client[] = [];
  /** The questions the server asked this test's clients, in order. */
  let asked: string[] = [];

  before(async () => {
    upstream = await startConformanceServer();
  });
  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await upstream.close();
  });

  async function connect(era: Era): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const client = new Client(
      { name: "conformance-upstream-test", version: "1.0.0" },
      {
        capabilities: { elicitation: { form: {} }, sampling: {} },
        ...(era === "2026-07-28" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {}),
      },
    );
    client.setRequestHandler("elicitation/create", async (req) => {
      asked.push(req.params.message);
      const field = req.params.mode === "url" ? undefined : Object.keys(req.params.requestedSchema.properties)[0];
      return { action: "accept", content: field === "color" ? { color: "teal" } : { [field ?? "name"]: "Ada" } };
    });
    const transport = new StreamableHTTPClientTransport(upstream.url);
    await client.connect(transport);
    clients.push(client);
    return { client, transport };
  }

  function firstText(result: Awaited<ReturnType<Client["callTool"]>>): string | undefined {
    const content = (result as { content?: { type: string; text?: string }[] }).content;
    const first = content?.[0];
    return first?.type === "text" ? first.text : undefined;
  }

  it("serves a 2025 client in a session: tools/list and tools/call", async () => {
    const { client, transport } = await connect("legacy");
    assert.equal(client.getProtocolEra(), "legacy");
    assert.ok(transport.sessionId, "a 2025 client gets an Mcp-Session-Id");
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "test_simple_text"));
    assert.equal(firstText(await client.callTool({ name: "test_simple_text", arguments: {} })), "This is a simple text response for testing.");
  });

  it("serves a client pinned to 2026-07-28 statelessly: tools/list and tools/call", async () => {
    const { client, transport } = await connect("2026-07-28");
    assert.equal(client.getProtocolEra(), "modern");
    assert.equal(transport.sessionId, undefined, "2026-07-28 has no sessions");
    const { tools } = await client.listTools();
    assert.ok(tools.some((tool) => tool.name === "test_input_required_result_multi_round"));
    assert.equal(firstText(await client.callTool({ name: "test_simple_text", arguments: {} })), "This is a simple text response for testing.");
  });

  for (const era of ["2026-07-28", "legacy"] as const) {
    it(`completes an input_required round through the client's elicitation handler (${era})`, async () => {
      asked = [];
      const { client } = await connect(era);
      const result = await client.callTool({ name: "test_input_required_result_elicitation", arguments: {} });
      assert.equal(firstText(result), "Hello, Ada!");
      assert.deepEqual(asked, ["What is your name?"]);
    });
  }

  it("carries sealed requestState across two rounds (2026-07-28)", async () => {
    asked = [];
    const { client } = await connect("2026-07-28");
    const result = await client.callTool({ name: "test_input_required_result_multi_round", arguments: {} });
    assert.equal(firstText(result), "Multi-round complete: Ada likes teal");
    assert.deepEqual(asked, ["Round 1: your name?", "Round 2: your favourite colour?"]);
  });

  it("refuses a request whose Host is not localhost (DNS rebinding)", async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(upstream.url, { method: "POST", headers: { host: "evil.example", "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
    });
    assert.equal(status, 403);
  });
});
