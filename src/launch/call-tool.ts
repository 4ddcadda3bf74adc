import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../registry/types.js";
import type { Launcher } from "./launcher.js";

export interface CallOptions {
  sessionId?: string;
  signal?: AbortSignal;
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
    return (await lease.run(
      (client, signal) => client.callTool({ name: tool, arguments: args }, CallToolResultSchema, { signal, timeout: 2 ** 31 - 1 }),
      options.signal,
    )) as CallToolResult;
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
        const page = await client.listTools(cursor ? { cursor } : {}, { signal, timeout: 2 ** 31 - 1 });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    }, options.signal);
  } finally {
    lease.release();
  }
}
