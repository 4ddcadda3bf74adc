/**
 * The `UpstreamClient` over an SDK v2 `Client` in the 2026-07-28 era, whatever carries it (a remote
 * upstream's Streamable HTTP, a container's stdio, an in-process linked pair): each request carries
 * the calling client's capabilities and log level in `_meta`; an `input_required` answer is either
 * handed back as it is (a 2026 caller answers it) or fulfilled through the `onRequest` handlers and
 * retried by the SDK (a 2025 caller, asked mid-call through its session).
 *
 * Also what a stream upstream (stdio, in-process) needs around it: `probeStreamEra` learns its era
 * once, in place, on a connection that is thrown away afterwards; `connectModernStream` connects
 * from the kept `server/discover` answer and sends nothing on connect.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  Client,
  LOG_LEVEL_META_KEY,
  ProtocolError,
  SERVER_INFO_META_KEY,
  SdkError,
  SdkErrorCode,
} from "@modelcontextprotocol/client";
import type { DiscoverResult, RequestMethod, Transport } from "@modelcontextprotocol/client";
import type { LoggingLevel, ServerCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { KnownEra, ResultSchema, UpstreamClient, UpstreamInputRequired, UpstreamMessage, UpstreamNotice, UpstreamQuestion, UpstreamRequestOptions } from "./launcher.js";
import { isUpstreamInputRequired } from "./launcher.js";
import { IMPLEMENTATION } from "../version.js";

/** What the gateway can pass on: a modern upstream may ask for any of these in an input_required round. */
const CAPABILITIES = { sampling: {}, elicitation: {}, roots: {} };

/**
 * Methods of extensions the SDK has no wire schema for (the Tasks extension's): sent as they are,
 * their result handed to the caller's own schema.
 */
const EXTENSION_METHODS = new Set(["tasks/get", "tasks/update", "tasks/cancel"]);
const UNCHECKED = { "~standard": { version: 1 as const, vendor: "mcp-router", validate: (value: unknown) => ({ value }) } };

/** Where a task handle rides through the SDK on the upstream hop (see `carryTasks`). */
const CARRIED_TASK = "dev.mcp-router/carried-task";

/**
 * The SDK v2 client (2.4) refuses `resultType: "task"`: it has no Tasks extension yet. On the way
 * in, a task answer becomes a `complete` tool result holding the task under a private `_meta` key,
 * which `request` takes out again; that key on any other answer is dropped, so an upstream cannot
 * forge a carried task. Wraps the transport's `onmessage` as the client sets it.
 */
export function carryTasks<T extends Transport>(transport: T): T {
  let deliver: Transport["onmessage"];
  Object.defineProperty(transport, "onmessage", {
    configurable: true,
    get: () => (deliver ? (message: Parameters<NonNullable<Transport["onmessage"]>>[0], extra?: Parameters<NonNullable<Transport["onmessage"]>>[1]) => deliver?.(carried(message), extra) : undefined),
    set: (handler: Transport["onmessage"]) => {
      deliver = handler;
    },
  });
  return transport;
}

function carried<M>(message: M): M {
  const result = (message as { result?: Record<string, unknown> }).result;
  if (typeof result !== "object" || result === null) return message;
  const meta = result._meta as Record<string, unknown> | undefined;
  if (meta && CARRIED_TASK in meta) {
    const { [CARRIED_TASK]: _forged, ...rest } = meta;
    return { ...message, result: { ...result, _meta: rest } };
  }
  if (result.resultType !== "task") return message;
  return { ...message, result: { resultType: "complete", content: [], _meta: { [CARRIED_TASK]: result } } };
}

/** A v2 client that negotiates (`server/discover`, else `initialize`) unless connected with a `prior`. */
export function newModernClient(clientInfo?: { name: string; version: string }): Client {
  return new Client(clientInfo ?? { ...IMPLEMENTATION }, { capabilities: CAPABILITIES, versionNegotiation: { mode: "auto" } });
}

/**
 * A stream upstream's era, probed in place on `transport` (which the caller throws away after:
 * the probe may have run `initialize` on it). A 2025 server that closes the connection on the
 * unknown `server/discover` is a 2025 one too. Other failures (no answer, a crash at start) reject:
 * no verdict, so the caller keeps the 2025 default and probes again later.
 */
export async function probeStreamEra(transport: Transport, options: { clientInfo?: { name: string; version: string }; timeoutMs: number }): Promise<KnownEra> {
  const client = newModernClient(options.clientInfo);
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to server/discover or initialize within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    });
    const connected = client.connect(transport, { timeout: options.timeoutMs });
    connected.catch(() => undefined);
    await Promise.race([connected, late]);
    const discover = client.getProtocolEra() === "modern" ? client.getDiscoverResult() : undefined;
    return discover ? { kind: "modern", discover } : { kind: "legacy" };
  } catch (error) {
    if (error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed && /closed/.test(error.message)) return { kind: "legacy" };
    throw error;
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}

/** A client of a modern stream upstream, connected from its kept advertisement: nothing is sent. */
export async function connectModernStream(transport: Transport, discover: DiscoverResult, clientInfo?: { name: string; version: string }): Promise<ModernUpstreamClient> {
  const client = newModernClient(clientInfo);
  await client.connect(carryTasks(transport), { prior: { kind: "modern", discover } });
  return new ModernUpstreamClient(client);
}

/** The SDK v2 client's errors as the gateway knows them: an upstream's JSON-RPC error is an McpError with its code and data. */
function asGatewayError(error: unknown): unknown {
  if (error instanceof ProtocolError) return new McpError(error.code, error.message, error.data);
  return error;
}

/** The upstream's own identity stays on its hop: the gateway answers in its own name. */
function withoutServerInfo<T>(result: T): T {
  const meta = (result as { _meta?: Record<string, unknown> })._meta;
  if (!meta || !(SERVER_INFO_META_KEY in meta)) return result;
  const { [SERVER_INFO_META_KEY]: _dropped, ...rest } = meta;
  const { _meta: _old, ...body } = result as Record<string, unknown>;
  return (Object.keys(rest).length > 0 ? { ...body, _meta: rest } : body) as T;
}

export class ModernUpstreamClient implements UpstreamClient {
  readonly era = "modern" as const;

  constructor(readonly client: Client) {}

  request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options?: UpstreamRequestOptions & { inputRequired?: "fulfil" }): Promise<T>;
  request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options: UpstreamRequestOptions): Promise<T | UpstreamInputRequired>;
  async request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options: UpstreamRequestOptions = {}): Promise<T | UpstreamInputRequired> {
    const params = { ...(request.params ?? {}) };
    if (options.caller) {
      // The caller's own declaration replaces the one the SDK would attach (the gateway's).
      const meta: Record<string, unknown> = { ...((params._meta as Record<string, unknown> | undefined) ?? {}) };
      meta[CLIENT_CAPABILITIES_META_KEY] = options.caller.capabilities ?? {};
      if (options.caller.logLevel) meta[LOG_LEVEL_META_KEY] = options.caller.logLevel;
      params._meta = meta;
    }
    const sdkOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      allowInputRequired: options.inputRequired === "return",
    };
    let result: unknown;
    try {
      result =
        request.method === "tools/call" && options.tool
          ? // callTool mirrors the tool's `Mcp-Param-*` headers from the definition the gateway already holds (no tools/list first).
            await this.client.callTool(params as Parameters<Client["callTool"]>[0], { ...sdkOptions, toolDefinition: options.tool as Parameters<Client["callTool"]>[1] extends infer O ? O extends { toolDefinition?: infer D } ? D : never : never })
          : EXTENSION_METHODS.has(request.method)
            ? await this.client.request({ method: request.method, params }, UNCHECKED, sdkOptions)
            : await this.client.request({ method: request.method as RequestMethod, params }, sdkOptions);
    } catch (error) {
      throw asGatewayError(error);
    }
    const task = (result as { _meta?: Record<string, unknown> } | undefined)?._meta?.[CARRIED_TASK];
    if (task !== undefined) result = task;
    if (isUpstreamInputRequired(result)) return withoutServerInfo(result);
    return schema.parse(withoutServerInfo(result));
  }

  onRequest(method: UpstreamQuestion, handler: (request: UpstreamMessage, extra: { signal: AbortSignal }) => Promise<unknown>): void {
    this.client.setRequestHandler(method, async (request, ctx) => (await handler(request as UpstreamMessage, { signal: ctx.mcpReq.signal })) as never);
  }

  onNotification(method: UpstreamNotice, handler: (notification: UpstreamMessage) => void | Promise<void>): void {
    this.client.setNotificationHandler(method, (notification) => handler(notification as UpstreamMessage));
  }

  serverCapabilities(): ServerCapabilities | undefined {
    return this.client.getServerCapabilities() as ServerCapabilities | undefined;
  }

  async watchResource(uri: string): Promise<{ close(): Promise<void> }> {
    let subscription: Awaited<ReturnType<Client["listen"]>>;
    try {
      subscription = await this.client.listen({ resourceSubscriptions: [uri] });
    } catch (error) {
      throw asGatewayError(error);
    }
    if (!subscription.honoredFilter.resourceSubscriptions?.includes(uri)) {
      await subscription.close();
      throw new McpError(-32602, `the server does not offer updates for ${uri} (its subscriptions/listen did not acknowledge it)`);
    }
    return { close: () => subscription.close() };
  }

  /** Nothing to send: a modern upstream takes the level on each request (`caller.logLevel`). */
  async setLoggingLevel(_level: LoggingLevel): Promise<void> {}

  close(): Promise<void> {
    return this.client.close().catch(() => undefined);
  }
}
