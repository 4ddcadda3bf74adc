/**
 * The `UpstreamClient` over an SDK v1 `Client`: a 2025-era upstream (containers, OpenAPI servers,
 * in-process test servers, remote servers that answered the era probe as 2025 ones). One adapter
 * per client, so handlers and per-client bookkeeping keyed by the adapter follow the client.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { AnySchema } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ProgressNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ResultSchema as AnyResultSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { ResultSchema, UpstreamClient, UpstreamMessage, UpstreamNotice, UpstreamQuestion, UpstreamRequestOptions } from "./launcher.js";

const REQUEST_SCHEMAS = {
  "sampling/createMessage": CreateMessageRequestSchema,
  "elicitation/create": ElicitRequestSchema,
  "roots/list": ListRootsRequestSchema,
} as const;

const NOTIFICATION_SCHEMAS = {
  "notifications/progress": ProgressNotificationSchema,
  "notifications/message": LoggingMessageNotificationSchema,
  "notifications/resources/updated": ResourceUpdatedNotificationSchema,
} as const;

const adapters = new WeakMap<Client, UpstreamClient>();

/** The adapter of a v1 client (the same one every time). */
export function legacyUpstreamClient(client: Client): UpstreamClient {
  let adapter = adapters.get(client);
  if (!adapter) {
    adapter = new LegacyUpstreamClient(client);
    adapters.set(client, adapter);
  }
  return adapter;
}

class LegacyUpstreamClient implements UpstreamClient {
  readonly era = "legacy" as const;

  constructor(private readonly client: Client) {}

  request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options?: UpstreamRequestOptions): Promise<T> {
    const { signal, timeout } = options ?? {};
    const sdkOptions = { ...(signal ? { signal } : {}), ...(timeout !== undefined ? { timeout } : {}) };
    // The SDK's own zod schemas go to it as they are; any other schema checks the result after it.
    if (typeof (schema as { safeParse?: unknown }).safeParse === "function") {
      return this.client.request(request as ServerRequest as never, schema as unknown as AnySchema, sdkOptions) as Promise<T>;
    }
    return this.client.request(request as ServerRequest as never, AnyResultSchema, sdkOptions).then((result) => schema.parse(result));
  }

  onRequest(method: UpstreamQuestion, handler: (request: UpstreamMessage, extra: { signal: AbortSignal }) => Promise<unknown>): void {
    this.client.setRequestHandler(REQUEST_SCHEMAS[method], async (request, extra) => (await handler(request as UpstreamMessage, { signal: extra.signal })) as never);
  }

  onNotification(method: UpstreamNotice, handler: (notification: UpstreamMessage) => void | Promise<void>): void {
    this.client.setNotificationHandler(NOTIFICATION_SCHEMAS[method], async (notification: ServerNotification) => handler(notification as UpstreamMessage));
  }

  serverCapabilities() {
    return this.client.getServerCapabilities();
  }

  async setLoggingLevel(level: Parameters<Client["setLoggingLevel"]>[0], options?: UpstreamRequestOptions): Promise<void> {
    await this.client.setLoggingLevel(level, { ...(options?.signal ? { signal: options.signal } : {}), ...(options?.timeout !== undefined ? { timeout: options.timeout } : {}) });
  }
}
