/**
 * Hierarchical discovery: four meta tools instead of every tool of every server, so a model is
 * not flooded with hundreds of tools. `call_tool` runs the real tool with full passthrough.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Access } from "../auth/access-policy.js";
import type { RoutingTable, ServerRoutes } from "./routing-table.js";

const META_TOOL_LIST: Tool[] = [
  {
    name: "list_servers",
    description: "List the MCP servers this gateway offers: prefix, title, description and how many tools each has.",
    inputSchema: { type: "object", properties: {} },
    annotations: { readOnlyHint: true },
  },
  {
    name: "list_tools",
    description: "List the tools of one server (names, descriptions and input schemas). Call them with call_tool.",
    inputSchema: { type: "object", properties: { server: { type: "string", description: "server prefix from list_servers" } }, required: ["server"] },
    annotations: { readOnlyHint: true },
  },
  {
    name: "search_tools",
    description: "Search the tools of every server by words in their names and descriptions. Returns the best matches with their server.",
    inputSchema: {
      type: "object",
      properties: { query: { type: "string", description: "words to look for" }, limit: { type: "number", description: "most results (default 20)" } },
      required: ["query"],
    },
    annotations: { readOnlyHint: true },
  },
  {
    name: "call_tool",
    description: "Call a tool of a server with arguments (as list_tools describes them).",
    inputSchema: {
      type: "object",
      properties: {
        server: { type: "string", description: "server prefix" },
        tool: { type: "string", description: "tool name as list_tools shows it" },
        arguments: { type: "object", description: "the tool's arguments" },
      },
      required: ["server", "tool"],
    },
  },
];

export const META_TOOLS: readonly Tool[] = Object.freeze(META_TOOL_LIST);

function json(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: { result: value } as Record<string, unknown> };
}

function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== "string" || value === "") throw new McpError(ErrorCode.InvalidParams, `argument "${name}" must be a non-empty string`);
  return value;
}

export function serverRoutes(table: RoutingTable, prefix: string): ServerRoutes {
  const routes = table.servers.get(prefix);
  if (!routes) {
    throw new McpError(ErrorCode.InvalidParams, `no server "${prefix}"; call list_servers for the prefixes (known: ${[...table.servers.keys()].join(", ") || "none"})`);
  }
  return routes;
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** Everything: no access policy restricts the caller. */
const EVERYTHING: Pick<Access, "unrestricted" | "server" | "allows"> = { unrestricted: true, server: () => true, allows: () => true };

/**
 * Answers the read-only meta tools; `call_tool` is the caller's (it needs passthrough). They tell
 * only of the servers and tools the caller's grants cover.
 */
export function metaToolResult(table: RoutingTable, name: string, args: Record<string, unknown>, access: Pick<Access, "unrestricted" | "server" | "allows"> = EVERYTHING): CallToolResult {
  const toolsOf = (routes: ServerRoutes) => (access.unrestricted ? routes.tools : routes.tools.filter((t) => access.allows("tool", routes.server.prefix, t.name)));
  const servers = [...table.servers.values()].filter((r) => access.server(r.server.prefix));
  switch (name) {
    case "list_servers":
      return json(
        servers.map((r) => ({
          server: r.server.prefix,
          name: r.server.name,
          title: r.server.entry.title,
          description: r.server.entry.description,
          tools: toolsOf(r).length,
          ready: r.ready,
        })),
      );
    case "list_tools":
      return json(toolsOf(serverRoutes(table, stringArg(args, "server"))));
    case "search_tools": {
      const query = words(stringArg(args, "query"));
      const limit = typeof args.limit === "number" && args.limit > 0 ? Math.floor(args.limit) : 20;
      const scored: Array<{ score: number; server: string; tool: string; description: string | undefined }> = [];
      for (const routes of servers) {
        for (const tool of toolsOf(routes)) {
          const nameWords = words(`${routes.server.prefix} ${tool.name} ${tool.title ?? ""}`);
          const descWords = words(tool.description ?? "");
          let score = 0;
          for (const q of query) {
            if (nameWords.includes(q)) score += 3;
            else if (nameWords.some((w) => w.startsWith(q))) score += 2;
            if (descWords.some((w) => w.startsWith(q))) score += 1;
          }
          if (score > 0) scored.push({ score, server: routes.server.prefix, tool: tool.name, description: tool.description });
        }
      }
      scored.sort((a, b) => b.score - a.score || a.server.localeCompare(b.server) || a.tool.localeCompare(b.tool));
      return json(scored.slice(0, limit));
    }
    default:
      throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}"; in hierarchical mode the tools are ${META_TOOLS.map((t) => t.name).join(", ")}`);
  }
}

/** The server, tool and arguments of a `call_tool` call. */
export function parseCallTool(args: Record<string, unknown>): { server: string; tool: string; arguments: Record<string, unknown> } {
  const inner = args.arguments;
  if (inner !== undefined && (inner === null || typeof inner !== "object" || Array.isArray(inner))) {
    throw new McpError(ErrorCode.InvalidParams, `argument "arguments" must be an object of the tool's arguments`);
  }
  return { server: stringArg(args, "server"), tool: stringArg(args, "tool"), arguments: (inner as Record<string, unknown> | undefined) ?? {} };
}
