/**
 * "Try a tool": one real tools/call through the gateway's own request handlers, as a stateless
 * request in the server's scope, on behalf of the signed-in principal (the audit log and metrics
 * see it like any other call, transport `console`). The browser cannot answer a server's questions
 * during the call (sampling, elicitation), so such a request fails the call with a message saying so.
 */
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "../gateway/gateway.js";
import type { HandlerExtra } from "../gateway/upstream-call.js";
import { isUpstreamInputRequired } from "../gateway/upstream-call.js";
import type { Principal } from "../auth/principal.js";
import { ConsoleError } from "./console-http.js";

export type TryResult = { ok: true; result: unknown } | { ok: false; error: { code: number; message: string } };

export async function tryTool(gateway: Gateway, call: { prefix: string; tool: string; arguments: Record<string, unknown>; principal: Principal; signal: AbortSignal }): Promise<TryResult> {
  const routes = gateway.holder.current().servers.get(call.prefix);
  if (!routes) throw new ConsoleError(404, "NO_SUCH_SERVER", `no server "${call.prefix}" is serving`, "Check its condition on the overview; a failed or preparing server cannot be called yet.");
  if (!routes.tools.some((t) => t.name === call.tool)) {
    throw new ConsoleError(404, "NO_SUCH_TOOL", `server "${call.prefix}" has no tool "${call.tool}"`, "Pick one of the tools its page lists (router.allowTools/denyTools may hide some).");
  }
  const request = gateway.statelessRequest({ scope: { kind: "server", prefix: call.prefix }, transport: "console", principal: call.principal });
  const extra = {
    signal: call.signal,
    requestId: `console-${Date.now()}`,
    _meta: {},
    sendNotification: async () => undefined,
    sendRequest: async () => {
      throw new McpError(ErrorCode.InvalidRequest, "the server asked the client a question during the call (sampling, elicitation or roots); the console cannot answer those: try this tool from an MCP client");
    },
  } as unknown as HandlerExtra;
  try {
    const result = await request.handlers.callTool({ name: call.tool, arguments: call.arguments }, extra);
    if (isUpstreamInputRequired(result)) {
      return { ok: false, error: { code: ErrorCode.InvalidRequest, message: "the server needs input from the client to go on (input_required); the console cannot answer it: try this tool from an MCP client" } };
    }
    return { ok: true, result };
  } catch (error) {
    const code = error instanceof McpError ? error.code : ErrorCode.InternalError;
    return { ok: false, error: { code, message: (error as Error).message } };
  } finally {
    await request.end();
  }
}
