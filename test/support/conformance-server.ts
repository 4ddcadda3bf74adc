/**
 * The conformance upstream: one MCP server, written with the SDK v2 server package, that offers every
 * tool, prompt, resource, template and behaviour the official conformance suite's server scenarios
 * exercise (`@modelcontextprotocol/conformance`, `conformance server --url ...`), in both protocol
 * eras on one URL:
 *
 * - 2025 revisions: `initialize` and a session per client (`Mcp-Session-Id`) over the Streamable
 *   HTTP transport, with an event store so a closed SSE stream can be resumed (`Last-Event-ID`),
 *   server-to-client sampling and elicitation, logging, progress, subscribe/unsubscribe, DELETE.
 * - 2026-07-28: stateless. Every request is served by `createMcpHandler` from a fresh server;
 *   `server/discover`, `subscriptions/listen`, `input_required` rounds with an HMAC-sealed
 *   `requestState`, caching hints, `Mcp-Method`/`Mcp-Name`/`Mcp-Param-*` header checks.
 *
 * The SDK's own classifier (`isLegacyRequest`) decides which of the two serves a request, so the
 * split never disagrees with the handler's. A Host/Origin check in front of both answers DNS
 * rebinding. Tests start it with `startConformanceServer()`; the conformance runner
 * (`scripts/conformance.ts`) and a human start it standalone:
 *
 *   npx tsx test/support/conformance-server.ts --port 0     # prints http://127.0.0.1:<port>/mcp
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ResourceTemplate,
  WebStandardStreamableHTTPServerTransport,
  acceptedContent,
  createMcpHandler,
  createRequestStateCodec,
  fromJsonSchema,
  hostHeaderValidationResponse,
  inputRequired,
  inputResponse,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
} from "@modelcontextprotocol/server";
import type {
  CallToolResult,
  ClientCapabilities,
  EventStore,
  GetPromptResult,
  InputRequests,
  InputRequiredResult,
  JSONRPCMessage,
  McpHttpHandler,
  ServerContext,
} from "@modelcontextprotocol/server";
import { listenFetch } from "./serve-fetch.js";

/** The path the server answers MCP on; anything else is 404. */
export const CONFORMANCE_MCP_PATH = "/mcp";

/** Which wire a server instance serves: the SDK's names for the two protocol eras. */
export type ConformanceEra = "legacy" | "modern";

export interface ConformanceServer {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: URL;
  close(): Promise<void>;
}

export interface ConformanceServerOptions {
  /** Port to listen on, on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Out-of-band errors (a failed response write, a transport error); ignored by default. */
  onError?: (error: Error) => void;
}

/** A 1x1 PNG (one blue pixel), built for these fixtures. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOQy78BAAIUAWZDDt3xAAAAAElFTkSuQmCC";

/** A valid WAV file: 8 kHz mono 16-bit PCM holding four samples of silence. */
const WAV_BASE64 = wavBase64(4);

function wavBase64(samples: number): string {
  const dataBytes = samples * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write("RIFF", 0, "ascii");
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write("WAVEfmt ", 8, "ascii");
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8000, 24); // sample rate
  wav.writeUInt32LE(16000, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write("data", 36, "ascii");
  wav.writeUInt32LE(dataBytes, 40);
  return wav.toString("base64");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });
const noArguments = fromJsonSchema<Record<string, never>>({ type: "object", properties: {} });

/** The one-string-field form an elicitation round asks for. */
function askFor(field: string, message: string, type: "string" | "boolean" = "string") {
  const property = type === "boolean" ? { type: "boolean" as const } : { type: "string" as const };
  return inputRequired.elicit({ message, requestedSchema: { type: "object", properties: { [field]: property }, required: [field] } });
}

/** The text of an accepted sampling answer, or undefined. */
function samplingText(responses: Record<string, unknown> | undefined, key: string): string | undefined {
  const view = inputResponse(responses, key);
  if (view.kind !== "sampling") return undefined;
  const content = view.result.content;
  const first = Array.isArray(content) ? content[0] : content;
  return first?.type === "text" ? first.text : JSON.stringify(first);
}

/** The roots of a roots/list answer, or undefined. */
function rootsOf(responses: Record<string, unknown> | undefined, key: string): { uri: string }[] | undefined {
  const view = inputResponse(responses, key);
  return view.kind === "roots" ? view.roots : undefined;
}

/** What every server instance shares: the requestState key and the handler its triggers publish on. */
interface Shared {
  state: ReturnType<typeof createRequestStateCodec<RoundState>>;
  handler(): McpHttpHandler;
}

/** What an `input_required` round carries to the next one, sealed by the codec. */
interface RoundState {
  tool: string;
  round?: number;
  name?: string;
}

/**
 * One server instance with the whole fixture. 2025 sessions get one each; 2026-07-28 requests get a
 * fresh one per request from `createMcpHandler`.
 */
export function buildConformanceServer(era: ConformanceEra, shared: Shared): McpServer {
  const server = new McpServer(
    { name: "mcp-router-conformance-upstream", version: "1.0.0" },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      // Tampered or expired state is refused (-32602) before any handler runs.
      requestState: { verify: shared.state.verify },
    },
  );
  registerContentTools(server);
  registerSessionTools(server);
  registerRoundTools(server, shared);
  registerStatelessDiagnostics(server, shared);
  registerResources(server, era);
  registerPrompts(server);
  server.server.setRequestHandler("completion/complete", (request) => {
    const candidates = ["test", "testing", "tested", "paris", "park"];
    const prefix = request.params.argument.value;
    const values = candidates.filter((value) => value.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

/** Tools whose results are plain content blocks (both eras). */
function registerContentTools(server: McpServer): void {
  server.registerTool("test_simple_text", { description: "Answers with one text block" }, async () => text("This is a simple text response for testing."));
  server.registerTool("test_image_content", { description: "Answers with one PNG image block" }, async () => ({
    content: [{ type: "image", data: PNG_BASE64, mimeType: "image/png" }],
  }));
  server.registerTool("test_audio_content", { description: "Answers with one WAV audio block" }, async () => ({
    content: [{ type: "audio", data: WAV_BASE64, mimeType: "audio/wav" }],
  }));
  server.registerTool("test_embedded_resource", { description: "Answers with an embedded text resource" }, async () => ({
    content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }],
  }));
  server.registerTool("test_multiple_content_types", { description: "Answers with text, image and resource blocks" }, async () => ({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG_BASE64, mimeType: "image/png" },
      { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
    ],
  }));
  server.registerTool("test_error_handling", { description: "Always fails: the error comes back as an isError result" }, async () => {
    throw new Error("This tool intentionally returns an error for testing");
  });
  server.registerTool(
    "test_tool_with_progress",
    { description: "Reports progress 0, 50, 100 when the request carries a progress token", inputSchema: noArguments },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress, total: 100, message: `step ${progress}/100` } });
          if (progress < 100) await sleep(20);
        }
      }
      return text(String(progressToken ?? "no progress token"));
    },
  );
  server.registerTool(
    "json_schema_2020_12_tool",
    {
      description: "Its input schema uses JSON Schema 2020-12 keywords that must survive tools/list verbatim",
      inputSchema: fromJsonSchema<Record<string, unknown>>({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        $defs: {
          address: { $anchor: "addressDef", type: "object", properties: { street: { type: "string" }, city: { type: "string" } } },
        },
        properties: {
          name: { type: "string" },
          address: { $ref: "#/$defs/address" },
          contactMethod: { type: "string", enum: ["phone", "email"] },
          phone: { type: "string" },
          email: { type: "string" },
        },
        allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
        if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
        then: { required: ["phone"] },
        else: { required: ["email"] },
        additionalProperties: false,
      }),
    },
    async (args) => text(`called with ${JSON.stringify(args)}`),
  );
  // `x-mcp-header` is the spec's annotation, not a JSON Schema keyword (hence the separate object).
  const region = { type: "string", "x-mcp-header": "Region" };
  server.registerTool(
    "test_x_mcp_header",
    {
      description: "One argument is mirrored into the Mcp-Param-Region header (2026-07-28)",
      inputSchema: fromJsonSchema<{ region?: string; level?: number }>({ type: "object", properties: { region, level: { type: "integer" } } }),
    },
    async (args) => text(`region=${args.region ?? "(none)"}`),
  );
}

/**
 * Tools for the 2025 session scenarios: they push requests to the client over the session
 * (sampling, elicitation), send log notifications, or close their own SSE stream mid-call.
 */
function registerSessionTools(server: McpServer): void {
  server.registerTool(
    "test_tool_with_logging",
    { description: "Sends three log notifications while it runs", inputSchema: noArguments },
    async (_args, ctx) => {
      for (const [index, data] of ["Tool execution started", "Tool processing data", "Tool execution completed"].entries()) {
        if (index > 0) await sleep(20);
        await ctx.mcpReq.notify({ method: "notifications/message", params: { level: "info", data } });
      }
      return text("Tool with logging executed successfully");
    },
  );
  server.registerTool(
    "test_reconnection",
    { description: "Closes its SSE stream mid-call; the result arrives after the client reconnects", inputSchema: noArguments },
    async (_args, ctx) => {
      ctx.http?.closeSSE?.();
      await sleep(100);
      return text("Reconnection test completed: the result reached the client after it reconnected.");
    },
  );
  server.registerTool(
    "test_sampling",
    {
      description: "Asks the client's model to answer a prompt (sampling/createMessage)",
      inputSchema: fromJsonSchema<{ prompt: string }>({ type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] }),
    },
    async ({ prompt }, ctx) => {
      const result = await ctx.mcpReq.requestSampling({ messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 });
      const first = Array.isArray(result.content) ? result.content[0] : result.content;
      return text(`LLM response: ${first?.type === "text" ? first.text : JSON.stringify(first)}`);
    },
  );
  server.registerTool(
    "test_elicitation",
    {
      description: "Asks the user for input (elicitation/create)",
      inputSchema: fromJsonSchema<{ message: string }>({ type: "object", properties: { message: { type: "string" } }, required: ["message"] }),
    },
    async ({ message }, ctx) => {
      const result = await ctx.mcpReq.elicitInput({
        message,
        requestedSchema: { type: "object", properties: { response: { type: "string", description: "Your answer" } }, required: ["response"] },
      });
      return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
  server.registerTool(
    "test_elicitation_sep1034_defaults",
    { description: "Elicits a form whose every primitive field has a default (SEP-1034)", inputSchema: noArguments },
    async (_args, ctx) => {
      const result = await ctx.mcpReq.elicitInput({
        message: "Review the fields; each has a default",
        requestedSchema: {
          type: "object",
          properties: {
            name: { type: "string", description: "Name", default: "John Doe" },
            age: { type: "integer", description: "Age", default: 30 },
            score: { type: "number", description: "Score", default: 95.5 },
            status: { type: "string", description: "Status", enum: ["active", "inactive", "pending"], default: "active" },
            verified: { type: "boolean", description: "Verified", default: true },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
  server.registerTool(
    "test_elicitation_sep1330_enums",
    { description: "Elicits a form with the five enum shapes (SEP-1330)", inputSchema: noArguments },
    async (_args, ctx) => {
      const titled = (prefix: string, titles: string[]) => titles.map((title, index) => ({ const: `${prefix}${index + 1}`, title }));
      const result = await ctx.mcpReq.elicitInput({
        message: "Pick from each enum",
        requestedSchema: {
          type: "object",
          properties: {
            untitledSingle: { type: "string", description: "Untitled single-select", enum: ["option1", "option2", "option3"] },
            titledSingle: { type: "string", description: "Titled single-select", oneOf: titled("value", ["First", "Second", "Third"]) },
            legacyEnum: { type: "string", description: "Legacy titled enum", enum: ["opt1", "opt2", "opt3"], enumNames: ["One", "Two", "Three"] },
            untitledMulti: {
              type: "array",
              description: "Untitled multi-select",
              minItems: 1,
              maxItems: 3,
              items: { type: "string", enum: ["option1", "option2", "option3"] },
            },
            titledMulti: {
              type: "array",
              description: "Titled multi-select",
              minItems: 1,
              maxItems: 3,
              items: { anyOf: titled("value", ["First", "Second", "Third"]) },
            },
          },
          required: [],
        },
      });
      return text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );
}

/**
 * Multi-round-trip tools (`input_required`, 2026-07-28). Each is write-once: it reads the answers the
 * retried request carries and asks only for what is missing. On a 2025 session the SDK's legacy shim
 * serves the same handlers by pushing real requests to the client.
 */
function registerRoundTools(server: McpServer, shared: Shared): void {
  const seal = (state: RoundState) => shared.state.mint(state);
  server.registerTool(
    "test_input_required_result_elicitation",
    { description: "Asks for the caller's name in one elicitation round", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const answer = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, "user_name");
      if (typeof answer?.name !== "string") return inputRequired({ inputRequests: { user_name: askFor("name", "What is your name?") } });
      return text(`Hello, ${answer.name}!`);
    },
  );
  server.registerTool(
    "test_input_required_result_sampling",
    { description: "Asks the client's model one question in a sampling round", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const answer = samplingText(ctx.mcpReq.inputResponses, "capital_question");
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            capital_question: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: "What is the capital of France?" } }], maxTokens: 100 }),
          },
        });
      }
      return text(`Sampling response: ${answer}`);
    },
  );
  server.registerTool(
    "test_input_required_result_list_roots",
    { description: "Asks for the client's roots in one round", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const roots = rootsOf(ctx.mcpReq.inputResponses, "client_roots");
      if (roots === undefined) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
      return text(`${roots.length} root(s): ${roots.map((root) => root.uri).join(", ")}`);
    },
  );
  server.registerTool(
    "test_input_required_result_request_state",
    { description: "Carries sealed requestState beside an elicitation round", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const confirmed = acceptedContent(ctx.mcpReq.inputResponses, "confirm");
      const state = ctx.mcpReq.requestState<RoundState>();
      if (confirmed === undefined || state?.tool !== "request_state") {
        return inputRequired({ inputRequests: { confirm: askFor("ok", "Please confirm", "boolean") }, requestState: await seal({ tool: "request_state" }) });
      }
      return text("state-ok: the requestState came back intact with the confirmation");
    },
  );
  server.registerTool(
    "test_input_required_result_multiple_inputs",
    { description: "Asks for elicitation, sampling and roots in a single round", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const responses = ctx.mcpReq.inputResponses;
      const name = acceptedContent<{ name: string }>(responses, "user_name")?.name;
      const greeting = samplingText(responses, "greeting");
      const roots = rootsOf(responses, "client_roots");
      if (typeof name === "string" && greeting !== undefined && roots !== undefined) {
        return text(`${greeting} ${name} (${roots.length} root(s))`);
      }
      return inputRequired({
        inputRequests: {
          user_name: askFor("name", "What is your name?"),
          greeting: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: "Write a greeting" } }], maxTokens: 50 }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await seal({ tool: "multiple_inputs" }),
      });
    },
  );
  server.registerTool(
    "test_input_required_result_multi_round",
    { description: "Two elicitation rounds in sequence; the round number lives in the sealed requestState", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      const state = ctx.mcpReq.requestState<RoundState>();
      const round = state?.tool === "multi_round" ? (state.round ?? 0) : 0;
      if (round === 0) {
        return inputRequired({ inputRequests: { step1: askFor("name", "Round 1: your name?") }, requestState: await seal({ tool: "multi_round", round: 1 }) });
      }
      if (round === 1) {
        const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, "step1")?.name ?? "unknown";
        return inputRequired({ inputRequests: { step2: askFor("color", "Round 2: your favourite colour?") }, requestState: await seal({ tool: "multi_round", round: 2, name }) });
      }
      const color = acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, "step2")?.color ?? "unknown";
      return text(`Multi-round complete: ${state?.name ?? "unknown"} likes ${color}`);
    },
  );
  server.registerTool(
    "test_input_required_result_tampered_state",
    { description: "Mints sealed requestState; a retry with altered state is refused before this handler runs", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      if (ctx.mcpReq.requestState<RoundState>()?.tool === "tampered_state" && acceptedContent(ctx.mcpReq.inputResponses, "confirm") !== undefined) {
        return text("integrity-ok: the requestState verified");
      }
      return inputRequired({ inputRequests: { confirm: askFor("ok", "Please confirm", "boolean") }, requestState: await seal({ tool: "tampered_state" }) });
    },
  );
  server.registerTool(
    "test_input_required_result_capabilities",
    { description: "Asks only for the kinds of input the request's declared client capabilities cover", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      if (ctx.mcpReq.inputResponses !== undefined) return text("every requested input arrived");
      // The published type of the envelope is `{}`; its keys are the spec's _meta keys.
      const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
      const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
      const inputRequests: InputRequests = {};
      if (declared?.elicitation !== undefined) inputRequests["user_name"] = askFor("name", "What is your name?");
      if (declared?.sampling !== undefined) {
        inputRequests["greeting"] = inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: "Write a greeting" } }], maxTokens: 50 });
      }
      if (declared?.roots !== undefined) inputRequests["client_roots"] = inputRequired.listRoots();
      if (Object.keys(inputRequests).length === 0) return text("the client declared no capability that can answer an input request");
      return inputRequired({ inputRequests });
    },
  );
}

/**
 * Fixtures the `server-stateless` scenario names: a tool that needs an undeclared capability, one whose
 * stream must carry no server-to-client request, one that logs only when the request sets a log level,
 * and triggers that publish list changes onto open `subscriptions/listen` streams.
 */
function registerStatelessDiagnostics(server: McpServer, shared: Shared): void {
  server.registerTool(
    "test_missing_capability",
    { description: "Needs the sampling capability; a request that does not declare it is refused with -32021", inputSchema: noArguments },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      if (samplingText(ctx.mcpReq.inputResponses, "answer") !== undefined) return text("sampling answered");
      return inputRequired({
        inputRequests: { answer: inputRequired.createMessage({ messages: [{ role: "user", content: { type: "text", text: "Say pong" } }], maxTokens: 16 }) },
      });
    },
  );
  server.registerTool("test_streaming_elicitation", { description: "Answers with result frames only", inputSchema: noArguments }, async () =>
    text("result only: no request to the client on this stream"),
  );
  server.registerTool("test_logging_tool", { description: "Logs through the request's log channel (silent without _meta.logLevel)", inputSchema: noArguments }, async (_args, ctx) => {
    await ctx.mcpReq.log("info", "test_logging_tool ran");
    return text("logged (delivered only when the request asked for a log level)");
  });
  server.registerTool("test_trigger_tool_change", { description: "Publishes notifications/tools/list_changed to listeners", inputSchema: noArguments }, async () => {
    shared.handler().notify.toolsChanged();
    return text("tools list_changed published");
  });
  server.registerTool("test_trigger_prompt_change", { description: "Publishes notifications/prompts/list_changed to listeners", inputSchema: noArguments }, async () => {
    shared.handler().notify.promptsChanged();
    return text("prompts list_changed published");
  });
}

function registerResources(server: McpServer, era: ConformanceEra): void {
  server.registerResource("static-text", "test://static-text", { title: "Static text", description: "A fixed text resource", mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "This is the content of the static text resource." }],
  }));
  server.registerResource("static-binary", "test://static-binary", { title: "Static binary", description: "A fixed PNG resource", mimeType: "image/png" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "image/png", blob: PNG_BASE64 }],
  }));
  server.registerResource(
    "template",
    new ResourceTemplate("test://template/{id}/data", { list: undefined }),
    { title: "Template", description: "JSON data for any id", mimeType: "application/json" },
    async (uri, variables) => ({
      contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ id: variables["id"], templateTest: true, data: `Data for ID: ${String(variables["id"])}` }) }],
    }),
  );
  server.registerResource("watched-resource", "test://watched-resource", { title: "Watched", description: "For subscribe and unsubscribe", mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: "text/plain", text: "Watched resource content" }],
  }));
  // 2025 sessions subscribe per resource; the bookkeeping is the server's (2026-07-28 has no such verbs).
  if (era === "legacy") {
    const subscribed = new Set<string>();
    server.server.setRequestHandler("resources/subscribe", (request) => {
      subscribed.add(request.params.uri);
      return {};
    });
    server.server.setRequestHandler("resources/unsubscribe", (request) => {
      subscribed.delete(request.params.uri);
      return {};
    });
  }
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt("test_simple_prompt", { title: "Simple", description: "A prompt without arguments" }, async () => ({
    messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }],
  }));
  server.registerPrompt(
    "test_prompt_with_arguments",
    {
      title: "With arguments",
      description: "A prompt with two required arguments",
      argsSchema: fromJsonSchema<{ arg1: string; arg2: string }>({
        type: "object",
        properties: { arg1: { type: "string", description: "First argument" }, arg2: { type: "string", description: "Second argument" } },
        required: ["arg1", "arg2"],
      }),
    },
    async ({ arg1, arg2 }) => ({ messages: [{ role: "user", content: { type: "text", text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  );
  server.registerPrompt(
    "test_prompt_with_embedded_resource",
    {
      title: "With an embedded resource",
      description: "Embeds the resource its argument names",
      argsSchema: fromJsonSchema<{ resourceUri: string }>({
        type: "object",
        properties: { resourceUri: { type: "string", description: "URI of the resource to embed" } },
        required: ["resourceUri"],
      }),
    },
    async ({ resourceUri }): Promise<GetPromptResult> => ({
      messages: [
        { role: "user", content: { type: "resource", resource: { uri: resourceUri, mimeType: "text/plain", text: "Embedded resource content for testing." } } },
        { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
      ],
    }),
  );
  server.registerPrompt("test_prompt_with_image", { title: "With an image", description: "A prompt carrying a PNG" }, async () => ({
    messages: [
      { role: "user", content: { type: "image", data: PNG_BASE64, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ],
  }));
  server.registerPrompt("test_input_required_result_prompt", { title: "Needs input", description: "Asks for context in an elicitation round before rendering" }, async (ctx) => {
    // Without argsSchema the callback's one argument is the request context.
    const request = (ctx as ServerContext).mcpReq;
    const context = acceptedContent<{ context: string }>(request.inputResponses, "user_context")?.context;
    if (typeof context !== "string") return inputRequired({ inputRequests: { user_context: askFor("context", "What context should the prompt use?") } });
    return { messages: [{ role: "user", content: { type: "text", text: `Use this context: ${context}` } }] };
  });
}

/** An in-memory event store, so a client can resume a closed SSE stream of its session. */
function createEventStore(): EventStore {
  const events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];
  let next = 0;
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}#${String(++next).padStart(10, "0")}`;
      events.push({ id, streamId, message });
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.find((event) => event.id === eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const index = events.findIndex((event) => event.id === lastEventId);
      const last = events[index];
      if (!last) throw new Error(`unknown event id ${lastEventId}`);
      for (const event of events.slice(index + 1)) {
        if (event.streamId === last.streamId) await send(event.id, event.message);
      }
      return last.streamId;
    },
  };
}

/** Session-bound 2025 serving: one transport and one server instance per `Mcp-Session-Id`. */
function createLegacySessions(shared: Shared, onError: (error: Error) => void) {
  const sessions = new Map<string, { transport: WebStandardStreamableHTTPServerTransport; server: McpServer }>();
  const jsonError = (status: number, code: number, message: string) => Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });

  async function handle(request: Request, parsedBody: unknown): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    const existing = sessionId ? sessions.get(sessionId) : undefined;
    if (existing) return existing.transport.handleRequest(request, { parsedBody });
    if (sessionId) return jsonError(404, -32001, "Session not found");
    if (request.method !== "POST" || !isInitialize(parsedBody)) return jsonError(400, -32000, "Bad Request: Mcp-Session-Id header is required");

    const server = buildConformanceServer("legacy", shared);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: createEventStore(),
      retryInterval: 1000,
      onsessioninitialized: (id) => void sessions.set(id, { transport, server }),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      void server.close().catch(onError);
    };
    transport.onerror = onError;
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody });
  }

  async function close(): Promise<void> {
    await Promise.allSettled([...sessions.values()].map(({ transport }) => transport.close()));
    sessions.clear();
  }

  return { handle, close };
}

function isInitialize(body: unknown): boolean {
  return typeof body === "object" && body !== null && !Array.isArray(body) && (body as { method?: unknown }).method === "initialize";
}

/** The whole server as a web-standard handler: Host/Origin checks, then the era split. */
function createConformanceFetch(onError: (error: Error) => void) {
  const shared: Shared = {
    state: createRequestStateCodec<RoundState>({ key: crypto.getRandomValues(new Uint8Array(32)), ttlSeconds: 600 }),
    // Called only while a request is served, after `modern` exists.
    handler: () => modern,
  };
  // Legacy traffic never reaches this handler: the sessions below serve it.
  const modern = createMcpHandler(({ era }) => buildConformanceServer(era, shared), { legacy: "reject", onerror: onError });
  const legacy = createLegacySessions(shared, onError);
  const hostnames = localhostAllowedHostnames();
  const origins = localhostAllowedOrigins();

  async function fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== CONFORMANCE_MCP_PATH) return new Response("Not found", { status: 404 });
    const refused = hostHeaderValidationResponse(request, hostnames) ?? originValidationResponse(request, origins);
    if (refused) return refused;
    const parsedBody = request.method === "POST" ? await request.clone().json().catch(() => undefined) : undefined;
    if (await isLegacyRequest(request, parsedBody)) return legacy.handle(request, parsedBody);
    return modern.fetch(request, parsedBody === undefined ? {} : { parsedBody });
  }

  async function close(): Promise<void> {
    await legacy.close();
    await modern.close();
  }

  return { fetch, close };
}

/** Starts the conformance upstream on 127.0.0.1 and resolves once it listens. */
export async function startConformanceServer(options: ConformanceServerOptions = {}): Promise<ConformanceServer> {
  const onError = options.onError ?? (() => undefined);
  const app = createConformanceFetch(onError);
  const served = await listenFetch(app.fetch, { ...(options.port !== undefined ? { port: options.port } : {}), onError });
  return {
    url: new URL(CONFORMANCE_MCP_PATH, served.origin),
    async close() {
      await app.close();
      await served.close();
    },
  };
}

/** `tsx test/support/conformance-server.ts [--port N]`: serve until interrupted, printing the URL. */
async function main(argv: string[]): Promise<void> {
  const portAt = argv.indexOf("--port");
  const port = portAt >= 0 ? Number(argv[portAt + 1]) : 0;
  if (!Number.isInteger(port) || port < 0) throw new Error(`--port takes a port number, got ${argv[portAt + 1] ?? "nothing"}`);
  const server = await startConformanceServer({ port, onError: (error) => console.error(`conformance upstream: ${error.message}`) });
  process.stdout.write(`${server.url.href}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
