import type { CallToolResult, ListToolsResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema, ListToolsResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../registry/types.js";
import type { Launcher, UpstreamClient, UpstreamRequestOptions } from "./launcher.js";

export interface CallOptions {
  sessionId?: string;
  signal?: AbortSignal;
}

const NO_TIMEOUT = 2 ** 31 - 1;

/** `tools/call` on a connected upstream (no SDK-side timeout unless given: the launcher bounds the call). */
export function toolCall(client: UpstreamClient, params: { name: string; arguments?: Record<string, unknown> }, options: UpstreamRequestOptions & { inputRequired?: "fulfil" } = {}): Promise<CallToolResult> {
  return client.request({ method: "tools/call", params: { name: params.name, arguments: params.arguments ?? {} } }, CallToolResultSchema, { timeout: NO_TIMEOUT, ...options }) as Promise<CallToolResult>;
}

/** One page of `tools/list` on a connected upstream. */
export function toolList(client: UpstreamClient, cursor?: string, options: UpstreamRequestOptions & { inputRequired?: "fulfil" } = {}): Promise<ListToolsResult> {
  return client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, ListToolsResultSchema, { timeout: NO_TIMEOUT, ...options });
}

/** One `tools/call` through the launcher, under the server's lifecycle. */
export async function callTool(
  launcher: Launcher,
  server: RegistryServer,
  tool: string,
  args: Record<string, unknown> = {},
  options: CallOptions = {},
): Promise<CallToolResult> {
  const lease = await launcher.acquire(server, { sessionId: options.sessionId ?? "cli", ...(options.signal ? { signal: options.signal } : {}) });
  try {
    return await lease.run((client, signal) => toolCall(client, { name: tool, arguments: args }, { signal }), options.signal);
  } finally {
    lease.release();
  }
}

/** All tools of a server (follows pagination). */
export async function listTools(launcher: Launcher, server: RegistryServer, options: CallOptions = {}): Promise<Tool[]> {
  const lease = await launcher.acquire(server, { sessionId: options.sessionId ?? "cli", ...(options.signal ? { signal: options.signal } : {}) });
  try {
    return await lease.run(async (client, signal) => {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await toolList(client, cursor, { signal });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    }, options.signal);
  } finally {
    lease.release();
  }
}
