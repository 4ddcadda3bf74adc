/**
 * The gateway's Streamable HTTP transport over a real HTTP server: malformed JSON-RPC gets a
 * JSON-RPC error (-32600) at once, never silence; a well-formed request reaches the session.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { StreamableHttpTransport } from "../../src/transports/streamable-http-transport.js";

describe("Streamable HTTP transport: malformed requests", () => {
  const received: JSONRPCMessage[] = [];
  const transport = new StreamableHttpTransport("session-1");
  transport.onmessage = (message) => {
    received.push(message);
    if ("id" in message && "method" in message) void transport.send({ jsonrpc: "2.0", id: message.id, result: {} });
  };
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => transport.handle(req, res, JSON.parse(text) as unknown));
  });
  let url: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = async (body: unknown) => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { id?: unknown; error?: { code: number; message: string } } | undefined };
  };

  for (const [what, message] of [
    ["an object id", { jsonrpc: "2.0", id: { a: 1 }, method: "tools/list" }],
    ["a null id", { jsonrpc: "2.0", id: null, method: "tools/list" }],
    ["a boolean id", { jsonrpc: "2.0", id: true, method: "tools/list" }],
    ["a fractional id", { jsonrpc: "2.0", id: 1.5, method: "tools/list" }],
    ["an array id", { jsonrpc: "2.0", id: [1], method: "tools/list" }],
    ["params that are not an object", { jsonrpc: "2.0", id: 1, method: "tools/call", params: [1, 2] }],
    ["params that are a string", { jsonrpc: "2.0", id: 1, method: "tools/call", params: "x" }],
  ] as const) {
    it(`answers ${what} with -32600 at once`, async () => {
      const { status, body } = await post(message);
      assert.equal(status, 400);
      assert.equal(body?.error?.code, -32600);
      assert.equal(body?.id, null);
      assert.match(body?.error?.message ?? "", /id is a string or an integer, params an object/);
    });
  }

  it("passes a well-formed request on and answers it", async () => {
    const { status, body } = await post({ jsonrpc: "2.0", id: 7, method: "tools/list", params: {} });
    assert.equal(status, 200);
    assert.deepEqual(body, { jsonrpc: "2.0", id: 7, result: {} });
    assert.equal(received.length, 1, "only the well-formed request reached the session");
  });
});
