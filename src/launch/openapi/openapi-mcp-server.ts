/**
 * The in-process MCP server of one `router.openapi` server version: tools/list answers the
 * compiled tools, tools/call sends the operation's HTTP request. Problems of a call (a missing
 * secret, bad arguments, an HTTP error) are `isError` results the model can read and act on.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { RegistryServer } from "../../registry/types.js";
import { resolveAuth } from "./openapi-auth.js";
import type { HttpLimits } from "./openapi-http.js";
import { sendRequest, shownUrl } from "./openapi-http.js";
import { ArgumentError, buildRequest } from "./openapi-request.js";
import type { CompiledApi } from "./openapi-tools.js";
import type { SecretSource } from "../../secrets/secret-source.js";

export interface OpenApiServerOptions {
  server: RegistryServer;
  api: CompiledApi;
  secrets: SecretSource;
  logger: Logger;
  limits: HttpLimits;
  dispatcher?: Dispatcher;
  serverInfo?: { name: string; version: string };
}

export function createOpenApiMcpServer(options: OpenApiServerOptions): Server {
  const { server, api, secrets, limits } = options;
  const log = options.logger.child({ server: server.prefix });
  const mcp = new Server(options.serverInfo ?? { name: `mcp-router-openapi-${server.prefix}`, version: server.entry.version }, { capabilities: { tools: {} } });
  const tools = api.operations.map((o) => o.tool);

  mcp.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));

  mcp.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const op = api.byName.get(req.params.name);
    if (!op) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${req.params.name} of ${server.prefix}; tools/list shows the ${tools.length} it offers`);
    const auth = resolveAuth(server.entry.router?.openapi?.auth, secrets);
    if (!auth.ok) return { content: [{ type: "text", text: `${server.prefix}: ${auth.message}` }], isError: true };
    const secretValues = auth.placement.secretValues;
    let plan;
    try {
      plan = buildRequest(op, req.params.arguments ?? {}, auth.placement);
    } catch (error) {
      if (error instanceof ArgumentError) return { content: [{ type: "text", text: `${op.tool.name}: ${error.message}` }], isError: true };
      throw error;
    }
    const t0 = performance.now();
    const outcome = await sendRequest(plan, limits, secretValues, extra.signal, options.dispatcher);
    log.debug(
      { tool: op.tool.name, method: plan.method, url: shownUrl(plan.url, secretValues), status: outcome.status, bytes: outcome.bytes, ms: Math.round(performance.now() - t0) },
      "openapi call",
    );
    return outcome.result;
  });
  return mcp;
}
