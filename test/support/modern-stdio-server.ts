/**
 * A 2026-07-28 stdio MCP server written with the SDK v2 (`serveStdio`), for the Docker tests of
 * containers in either era: bundled into one file and built into a local image
 * (`ensureModernImage` in docker.ts). By default it also serves 2025 openings (`initialize`), as
 * SDK v2 servers do; with `--modern-only` it refuses them.
 *
 * Tools: `whoami` (the container's hostname: which container answered), `echo`, and two that ask
 * the client in an `input_required` round: `ask_name` (elicitation) and `ask_model` (sampling). On
 * a 2025 connection the SDK asks those through the session instead (its legacy shim). And
 * `refuse_version`, which answers UnsupportedProtocolVersion (-32022) as a server that stopped
 * speaking the probed revision would.
 */
import { hostname } from "node:os";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { fromJsonSchema, inputRequired, McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";

function text(value: string): { content: Array<{ type: "text"; text: string }> } {
  return { content: [{ type: "text", text: value }] };
}

/** The accepted answer under `key`, if the retry carries one. */
function answer(responses: Record<string, unknown> | undefined, key: string): Record<string, unknown> | undefined {
  const value = responses?.[key] as { action?: string; content?: Record<string, unknown>; role?: string } | undefined;
  return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

const noArguments = fromJsonSchema<Record<string, never>>({ type: "object", properties: {} });

function build(): McpServer {
  const server = new McpServer({ name: "mcp-router-test-modern", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.registerTool("whoami", { description: "The hostname of the container that answers" }, async () => text(hostname()));
  server.registerTool(
    "echo",
    { description: "Answers with its text argument", inputSchema: fromJsonSchema<{ text: string }>({ type: "object", properties: { text: { type: "string" } }, required: ["text"] }) },
    async (args) => text(args.text),
  );
  server.registerTool("ask_name", { description: "Asks the user for a name (one elicitation round)", inputSchema: noArguments }, async (_args, ctx) => {
    const reply = answer(ctx.mcpReq.inputResponses, "user_name");
    const name = (reply?.content as { name?: unknown } | undefined)?.name;
    if (reply?.action !== "accept" || typeof name !== "string") {
      return inputRequired({
        inputRequests: {
          user_name: inputRequired.elicit({ message: "What is your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] } }),
        },
      });
    }
    return text(`hello ${name} from ${hostname()}`);
  });
  server.registerTool("ask_model", { description: "Asks the client's model one question (one sampling round)", inputSchema: noArguments }, async (_args, ctx) => {
    const reply = answer(ctx.mcpReq.inputResponses, "capital");
    const content = reply?.content as { type?: string; text?: unknown } | undefined;
    if (content?.type !== "text" || typeof content.text !== "string") {
      return inputRequired({
        inputRequests: { capital: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: "What is the capital of France?" } }], maxTokens: 50 }) },
      });
    }
    return text(`the model said ${content.text}`);
  });
  // Answered by the transport below, as a protocol error: the handler never runs.
  server.registerTool("refuse_version", { description: "Answers -32022 UnsupportedProtocolVersion", inputSchema: noArguments }, async () => text("unreachable"));
  return server;
}

/**
 * Stdio, with `refuse_version` calls answered at the protocol level (a JSON-RPC error, as a version
 * check before any handler gives it), before the server sees them.
 */
function transport(): StdioServerTransport {
  const stdio = new StdioServerTransport();
  let deliver: StdioServerTransport["onmessage"];
  Object.defineProperty(stdio, "onmessage", {
    get: () => (message: JSONRPCMessage) => {
      const request = message as { id?: number | string; method?: string; params?: { name?: string } };
      if (request.method === "tools/call" && request.params?.name === "refuse_version" && request.id !== undefined) {
        void stdio.send({ jsonrpc: "2.0", id: request.id, error: { code: -32022, message: "Unsupported protocol version (this test server pretends to speak another revision)", data: { supported: ["2099-01-01"] } } });
        return;
      }
      deliver?.(message);
    },
    set: (handler: StdioServerTransport["onmessage"]) => {
      deliver = handler;
    },
  });
  return stdio;
}

serveStdio(build, { legacy: process.argv.includes("--modern-only") ? "reject" : "serve", transport: transport() });
