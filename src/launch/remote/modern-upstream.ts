/**
 * Remote upstreams of the 2026-07-28 era, through the SDK v2 client. The era is probed once per
 * server version (`eraVerdict`: `server/discover` under `mode: 'auto'`; a 2025 server falls back to
 * `initialize`, and that probe session is ended at once). A modern verdict keeps the server's
 * DiscoverResult, and every later client connects with it as `prior`: nothing is sent on connect,
 * no session exists, so a client is made per lease and costs no round trip.
 *
 * `ModernUpstreamClient` is the `UpstreamClient` over such a client: each request carries the
 * calling client's capabilities and log level in `_meta`; an `input_required` answer is either
 * handed back as it is (a 2026 caller answers it) or fulfilled through the `onRequest` handlers and
 * retried by the SDK (a 2025 caller, asked mid-call through its session).
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  Client,
  LOG_LEVEL_META_KEY,
  ProtocolError,
  SERVER_INFO_META_KEY,
  StreamableHTTPClientTransport,
} from "@modelcontextprotocol/client";
import type { DiscoverResult, RequestMethod } from "@modelcontextprotocol/client";
import type { LoggingLevel, ServerCapabilities } from "@modelcontextprotocol/sdk/types.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { ResultSchema, UpstreamClient, UpstreamInputRequired, UpstreamMessage, UpstreamNotice, UpstreamQuestion, UpstreamRequestOptions } from "../launcher.js";
import { isUpstreamInputRequired } from "../launcher.js";
import { IMPLEMENTATION } from "../../version.js";
import type { RemoteTarget } from "./remote-target.js";

/**
 * What the probe found: a 2026 server (with its advertisement, and whether it also opens 2025
 * sessions: 2025 callers keep those, so its mid-call questions reach them as before) or a 2025 one.
 */
export type EraVerdict = { kind: "modern"; discover: DiscoverResult; alsoLegacy: boolean } | { kind: "legacy" };

export interface ModernClientOptions {
  clientInfo?: { name: string; version: string };
  fetch?: typeof fetch;
  /** Bound on the probe (default 30 s). */
  connectTimeoutMs?: number;
}

/** What the gateway can pass on: a modern upstream may ask for any of these in an input_required round. */
const CAPABILITIES = { sampling: {}, elicitation: {}, roots: {} };

const TERMINATE_WAIT_MS = 2_000;

function newClient(options: ModernClientOptions): Client {
  return new Client(options.clientInfo ?? { ...IMPLEMENTATION }, { capabilities: CAPABILITIES, versionNegotiation: { mode: "auto" } });
}

function newTransport(target: RemoteTarget, fetchFn: typeof fetch = fetch): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(target.url, { requestInit: { headers: target.headers }, fetch: fetchFn });
}

/**
 * Probes a Streamable HTTP upstream's era once: `server/discover`, falling back to `initialize` for
 * a 2025 server (whose probe session is then ended). Rejects when the upstream answers neither.
 */
export async function eraVerdict(target: RemoteTarget, options: ModernClientOptions): Promise<{ verdict: EraVerdict; name: string | undefined }> {
  const found = await probeOnce(target, options, undefined);
  if (found.verdict.kind === "legacy") return { verdict: found.verdict, name: found.name };
  const { discover } = found.verdict;
  // Does it open 2025 sessions too? Advertised, or else asked once with initialize.
  const alsoLegacy = discover.supportedVersions.some((version) => version < "2026") || (await probeOnce(target, options, { kind: "legacy" }).then(() => true, () => false));
  return { verdict: { kind: "modern", discover, alsoLegacy }, name: found.name };
}

async function probeOnce(target: RemoteTarget, options: ModernClientOptions, prior: { kind: "legacy" } | undefined): Promise<{ verdict: EraVerdict | { kind: "modern"; discover: DiscoverResult }; name: string | undefined }> {
  const client = newClient(options);
  const transport = newTransport(target, options.fetch);
  const limitMs = options.connectTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limitMs / 1000} s`)), limitMs);
    });
    const connected = client.connect(transport, { timeout: limitMs, ...(prior ? { prior } : {}) });
    connected.catch(() => undefined);
    await Promise.race([connected, late]);
    const discover = client.getProtocolEra() === "modern" ? client.getDiscoverResult() : undefined;
    const name = client.getServerVersion()?.name;
    return { verdict: discover ? { kind: "modern", discover } : { kind: "legacy" }, name };
  } finally {
    clearTimeout(timer);
    if (transport.sessionId) {
      let wait: NodeJS.Timeout | undefined;
      await Promise.race([transport.terminateSession().catch(() => undefined), new Promise<void>((resolve) => (wait = setTimeout(resolve, TERMINATE_WAIT_MS)))]);
      clearTimeout(wait);
    }
    await client.close().catch(() => undefined);
  }
}

/** A client of a modern upstream, connected with its known advertisement: no round trip. */
export async function connectModern(target: RemoteTarget, discover: DiscoverResult, options: ModernClientOptions): Promise<ModernUpstreamClient> {
  const client = newClient(options);
  await client.connect(newTransport(target, options.fetch), { prior: { kind: "modern", discover } });
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
          : await this.client.request({ method: request.method as RequestMethod, params }, sdkOptions);
    } catch (error) {
      throw asGatewayError(error);
    }
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

  /** Nothing to send: a modern upstream takes the level on each request (`caller.logLevel`). */
  async setLoggingLevel(_level: LoggingLevel): Promise<void> {}

  close(): Promise<void> {
    return this.client.close().catch(() => undefined);
  }
}
