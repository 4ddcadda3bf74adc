/* global process */
/**
 * The load bench's upstream: an MCP server with one trivial `echo` tool, written with the SDK
 * (v1, the one every peer's client speaks), as its own process so neither the bench's clients nor
 * a gateway share its event loop.
 *  - `--http`: Streamable HTTP on 127.0.0.1, stateless (a fresh server and transport per request,
 *    the SDK's documented pattern), JSON answers; prints `{"url": ...}` on stdout once listening.
 *    One process serves every client: the "fast shared upstream".
 *  - `--stdio`: the same tool over stdio, for the peers that can only front a command.
 * Plain JavaScript, so a peer that starts one copy per session (supergateway) pays a Node start,
 * not a TypeScript loader's as well.
 * Run: `node bench/load/echo-server.mjs --http|--stdio`.
 */
import { createServer } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const ECHO_TOOL = {
  name: "echo",
  description: "Echoes its message",
  inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
};

/** The SDK's low-level server: the least work per call an SDK server does, so the upstream stays fast. */
function echoServer() {
  const server = new Server({ name: "bench-echo", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [ECHO_TOOL] }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    if (request.params.name !== "echo") throw new Error(`unknown tool ${request.params.name}`);
    return { content: [{ type: "text", text: `Echo: ${String(request.params.arguments?.message)}` }] };
  });
  return server;
}

async function serveHttp() {
  const http = createServer((req, res) => {
    if (req.url !== "/mcp") return void res.writeHead(404).end();
    if (req.method !== "POST") return void res.writeHead(405, { allow: "POST" }).end();
    const server = echoServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  });
  // Many clients reuse their connections; Node's 5 s default would drop idle ones between bench phases.
  http.keepAliveTimeout = 60_000;
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${http.address().port}/mcp` })}\n`);
}

if (process.argv.includes("--http")) await serveHttp();
else if (process.argv.includes("--stdio")) await echoServer().connect(new StdioServerTransport());
else {
  process.stderr.write("usage: echo-server.mjs --http | --stdio\n");
  process.exitCode = 2;
}
