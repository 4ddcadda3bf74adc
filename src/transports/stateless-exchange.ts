/**
 * One request of the 2026-07-28 era over Streamable HTTP. Nothing precedes it and nothing
 * outlives it: its protocol version, client capabilities, client info and log level travel in its
 * `_meta`, the gateway answers it from the routing table or the server that owns it, and the
 * answer goes out on the request's own response: one JSON body, or an event stream as soon as
 * progress or log messages about it arrive. A response closed early is a cancel (a per-call
 * container is killed). Every result says `resultType: "complete"` and who answered
 * (`io.modelcontextprotocol/serverInfo`); lists say how long they may be cached and by whom.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CLIENT_CAPABILITIES_META_KEY,
  LOG_LEVEL_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  SUBSCRIPTION_ID_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/server";
import type { JSONRPCRequest } from "@modelcontextprotocol/server";
import type { ClientCapabilities, LoggingLevel, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Principal } from "../auth/principal.js";
import type { Gateway, ScopeHandlers, SessionScope } from "../gateway/gateway.js";
import type { InputRequest } from "../gateway/input-rounds.js";
import { RATE_LIMITED } from "../gateway/access-view.js";
import type { HandlerExtra } from "../gateway/upstream-call.js";
import { isUpstreamInputRequired, isUpstreamTask } from "../gateway/upstream-call.js";
import { TASKS_EXTENSION } from "../gateway/task-handles.js";
import { keepStreamAlive, SSE_HEADERS } from "./sse-keepalive.js";

/** The stateless revisions served here; the 2025 ones (SUPPORTED_PROTOCOL_VERSIONS) keep their sessions. */
export const STATELESS_PROTOCOL_VERSIONS = ["2026-07-28"] as const;

/** UnsupportedProtocolVersion in the 2026-07-28 revision's error range. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;
/** MissingRequiredClientCapability (2026-07-28). */
const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;

/** How long a client may reuse a list: the table changes only when the registry does, and lists follow who asks. */
const LIST_CACHE = { ttlMs: 0, cacheScope: "private" } as const;

export interface StatelessExchangeOptions {
  gateway: Gateway;
  scope: SessionScope;
  /** Who sent the request (policy, rate limits, audit log). */
  principal: Principal;
  /** For logs: `streamable-http` (default) or `stdio`. */
  transport?: string;
  keepAliveMs?: number;
}

/** Whether a message is a 2026-era request: `server/discover`, or a request whose `_meta` names a 2026+ protocol version. */
export function isStatelessRequest(message: unknown): boolean {
  const m = message as { method?: unknown; id?: unknown; params?: { _meta?: Record<string, unknown> } };
  if (typeof m?.method !== "string" || m.id === undefined) return false;
  if (m.method === "server/discover") return true;
  const version = m.params?._meta?.[PROTOCOL_VERSION_META_KEY];
  return typeof version === "string" && version >= "2026";
}

/** `server/discover`: the versions the gateway speaks and what it can do for this scope. */
export function discoverResult(gateway: Gateway, scope: SessionScope): Record<string, unknown> {
  const { capabilities, instructions, serverInfo } = gateway.advertisement(scope);
  // Tasks (a 2026 extension): handles from upstreams that create them are routed back to them.
  const withTasks = { ...capabilities, extensions: { [TASKS_EXTENSION]: {} } };
  return { supportedVersions: [...STATELESS_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS], capabilities: withTasks, instructions, ...LIST_CACHE, resultType: "complete", _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
}

type Dispatch = (handlers: ScopeHandlers, params: Record<string, unknown>, extra: HandlerExtra) => unknown;

/**
 * The methods a stateless request may call: `list` marks the cacheable results, `target` the
 * methods that may answer `input_required` and what their round state is bound to.
 */
const METHODS: Record<string, { run: Dispatch; list?: boolean; target?: "name" | "uri" }> = {
  "tools/list": { run: (h) => h.listTools(), list: true },
  "tools/call": { run: (h, p, e) => h.callTool(p as never, e), target: "name" },
  "resources/list": { run: (h) => h.listResources(), list: true },
  "resources/templates/list": { run: (h) => h.listResourceTemplates(), list: true },
  "resources/read": { run: (h, p, e) => h.readResource(p as never, e), list: true, target: "uri" },
  "prompts/list": { run: (h) => h.listPrompts(), list: true },
  "prompts/get": { run: (h, p, e) => h.getPrompt(p as never, e), target: "name" },
  "completion/complete": { run: (h, p, e) => h.complete(p as never, e) },
  "tasks/get": { run: (h, p, e) => h.task("tasks/get", p, e) },
  "tasks/update": { run: (h, p, e) => h.task("tasks/update", p, e) },
  "tasks/cancel": { run: (h, p, e) => h.task("tasks/cancel", p, e) },
};

/** What one stateless request produced: its JSON-RPC response, and the HTTP status that carries it. */
export interface StatelessOutcome {
  response: { jsonrpc: "2.0"; id: JSONRPCRequest["id"]; result?: unknown; error?: { code: number; message: string; data?: unknown } };
  status: number;
  /** HTTP headers of the answer (a rate-limited call's `Retry-After`). */
  headers?: Record<string, string>;
}

/** Where a request's notifications go (its response stream), and what cancels it. */
export interface StatelessCall {
  notify(notification: ServerNotification): void;
  signal: AbortSignal;
  headers?: IncomingMessage["headers"];
}

/**
 * Answers one 2026-07-28 request, whatever carries it (an HTTP response, a stdio line). Never
 * throws: failures are JSON-RPC errors.
 */
export async function answerStatelessRequest(message: JSONRPCRequest, options: StatelessExchangeOptions, call: StatelessCall): Promise<StatelessOutcome> {
  const { gateway, scope } = options;
  const params = (message.params ?? {}) as Record<string, unknown>;
  const meta = (params._meta ?? {}) as Record<string, unknown>;
  const ok = (result: unknown): StatelessOutcome => ({ response: { jsonrpc: "2.0", id: message.id, result }, status: 200 });
  // A capability the request did not declare (an upstream's -32021) is a 400, as the 2026 revision requires.
  // A call refused by a rate limit never reached the server: 429 with Retry-After, as HTTP clients and proxies expect.
  const fail = (error: unknown, status = 200): StatelessOutcome => {
    const body = errorBody(error);
    const response = { jsonrpc: "2.0" as const, id: message.id, error: body };
    if (body.code === RATE_LIMITED) return { response, status: 429, headers: { "retry-after": String((body.data as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1) } };
    return { response, status: body.code === MISSING_REQUIRED_CLIENT_CAPABILITY ? 400 : status };
  };

  const version = meta[PROTOCOL_VERSION_META_KEY];
  // server/discover is the probe: it may come without a version, but not with one we do not speak.
  const versionless = message.method === "server/discover" && version === undefined;
  if (!versionless && (typeof version !== "string" || !(STATELESS_PROTOCOL_VERSIONS as readonly string[]).includes(version))) {
    const supported = [...STATELESS_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS];
    return fail(new McpError(UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${String(version)} (mcp-router speaks ${supported.join(", ")})`, { supported, requested: version }), 400);
  }
  if (message.method === "server/discover") return ok(discoverResult(gateway, scope));
  if (message.method === "subscriptions/listen") return listen(message, params, options, call);
  const method = METHODS[message.method];
  if (!method) {
    return fail(new McpError(ErrorCode.MethodNotFound, `${message.method} is not a method mcp-router serves to 2026-07-28 clients (${Object.keys(METHODS).join(", ")}, server/discover, subscriptions/listen)`), 404);
  }
  const logLevel = meta[LOG_LEVEL_META_KEY] as LoggingLevel | undefined;
  const open = () =>
    gateway.statelessRequest({
      scope,
      transport: options.transport ?? "streamable-http",
      principal: options.principal,
      clientCapabilities: meta[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined,
      ...(logLevel ? { logLevel } : {}),
    });
  const extra = {
    signal: call.signal,
    requestId: message.id,
    _meta: meta,
    ...(call.headers ? { requestInfo: { headers: call.headers } } : {}),
    sendNotification: async (notification: ServerNotification) => {
      // Log messages only for a request that asked for them (its logLevel), as the 2026 revision requires.
      if (notification.method === "notifications/message" && !logLevel) return;
      call.notify(notification);
    },
    sendRequest: async () => {
      throw new McpError(ErrorCode.InvalidRequest, `the client speaks ${String(version)}: the server cannot send it requests during a call`);
    },
  } as unknown as HandlerExtra;
  const { serverInfo } = gateway.advertisement(scope);
  const complete = (result: Record<string, unknown>) =>
    ok({ ...result, ...(method.list ? LIST_CACHE : {}), resultType: "complete", _meta: { ...(result._meta as Record<string, unknown> | undefined), [SERVER_INFO_META_KEY]: serverInfo } });
  if (!method.target) {
    const request = open();
    try {
      return complete((await method.run(request.handlers, params, extra)) as Record<string, unknown>);
    } catch (error) {
      return fail(error);
    } finally {
      await request.end();
    }
  }
  // A call the upstream may pause with a question for the client: multi-round-trip (input_required).
  // A 2025-era upstream asks mid-call and the call waits here (rounds.start / resume); a 2026 one
  // answers input_required itself, passed on with its own keys and its state sealed; the retry
  // carries the client's answers and that state back to it.
  const binding = { principal: options.principal.id, method: message.method, target: String(params[method.target] ?? "") };
  const { requestState, inputResponses, ...callParams } = params;
  try {
    const upstreamRound = typeof requestState === "string" ? gateway.rounds.openUpstream(binding, requestState) : undefined;
    const runParams = upstreamRound
      ? { ...callParams, ...(inputResponses !== undefined ? { inputResponses } : {}), ...(upstreamRound.upstreamState !== undefined ? { requestState: upstreamRound.upstreamState } : {}) }
      : callParams;
    // The call (and what it holds: a per-call container, per-session instances) belongs to the round that started it; a retry only resumes it.
    const begin = (ask: (req: InputRequest) => Promise<unknown>, signal: AbortSignal) => {
      const request = open();
      return Promise.resolve(method.run(request.handlers, runParams, { ...extra, signal, sendRequest: ask } as unknown as HandlerExtra)).finally(() => request.end());
    };
    const resumed = typeof requestState === "string" && !upstreamRound;
    const outcome = resumed
      ? await gateway.rounds.resume(binding, requestState as string, (inputResponses ?? {}) as Record<string, unknown>, call.signal)
      : await gateway.rounds.start(binding, begin, call.signal);
    if (outcome.kind === "input_required") {
      return ok({ resultType: "input_required", inputRequests: outcome.inputRequests, requestState: outcome.requestState, _meta: { [SERVER_INFO_META_KEY]: serverInfo } });
    }
    const result = outcome.result as Record<string, unknown>;
    if (isUpstreamInputRequired(result)) {
      return ok({
        resultType: "input_required",
        ...(result.inputRequests ? { inputRequests: result.inputRequests } : {}),
        requestState: gateway.rounds.sealUpstream(binding, result.requestState),
        _meta: { ...result._meta, [SERVER_INFO_META_KEY]: serverInfo },
      });
    }
    // A task handle (the Tasks extension) keeps its resultType: the client polls tasks/get with its taskId.
    if (isUpstreamTask(result)) return ok({ ...result, _meta: { ...(result._meta as Record<string, unknown> | undefined), [SERVER_INFO_META_KEY]: serverInfo } });
    return complete(result);
  } catch (error) {
    return fail(error);
  }
}

/** The list-change notifications a listen stream can carry, by filter field. */
const LIST_CHANGES = {
  toolsListChanged: "notifications/tools/list_changed",
  promptsListChanged: "notifications/prompts/list_changed",
  resourcesListChanged: "notifications/resources/list_changed",
} as const;

/**
 * `subscriptions/listen`: acknowledges the part of the filter the gateway honours (list changes of
 * the routing table, and updates of the resources it could subscribe to on their upstreams), then
 * sends notifications tagged with the subscription id until the client closes the stream.
 */
async function listen(message: JSONRPCRequest, params: Record<string, unknown>, options: StatelessExchangeOptions, call: StatelessCall): Promise<StatelessOutcome> {
  const requested = (params.notifications ?? {}) as Record<string, unknown>;
  const lists = Object.keys(LIST_CHANGES).filter((k) => requested[k] === true) as (keyof typeof LIST_CHANGES)[];
  const tag = { [SUBSCRIPTION_ID_META_KEY]: message.id };
  const send = (notification: { method: string; params: Record<string, unknown> }) => call.notify(notification as unknown as ServerNotification);
  // Resource updates: subscribed on each owning upstream; a URI that cannot be subscribed is left out of the acknowledgment.
  const watch = options.gateway.resourceWatch(options.scope, options.principal);
  const resources: string[] = [];
  const uris = Array.isArray(requested.resourceSubscriptions) ? (requested.resourceSubscriptions as unknown[]).filter((u): u is string => typeof u === "string") : [];
  const updated = (uri: string) => send({ method: "notifications/resources/updated", params: { _meta: tag, uri } });
  for (const uri of uris) {
    try {
      await watch.watch(uri, updated, call.signal);
      resources.push(uri);
    } catch {
      // not honoured: the acknowledgment says so by leaving it out
    }
  }
  const honored = { ...Object.fromEntries(lists.map((k) => [k, true])), ...(resources.length ? { resourceSubscriptions: resources } : {}) };
  send({ method: "notifications/subscriptions/acknowledged", params: { _meta: tag, notifications: honored } });
  const stop = options.gateway.onListsChanged(options.scope, () => {
    for (const key of lists) send({ method: LIST_CHANGES[key], params: { _meta: tag } });
  });
  await new Promise<void>((resolve) => (call.signal.aborted ? resolve() : call.signal.addEventListener("abort", () => resolve(), { once: true })));
  stop();
  await watch.close();
  return { response: { jsonrpc: "2.0", id: message.id, result: { resultType: "complete", _meta: tag } }, status: 200 };
}

/** A JSON-RPC error object for a thrown error, without the SDK's "MCP error <code>:" prefix. */
function errorBody(error: unknown): { code: number; message: string; data?: unknown } {
  const code = error instanceof McpError ? error.code : ErrorCode.InternalError;
  const message = (error instanceof Error ? error.message : String(error)).replace(/^MCP error -?\d+: /, "");
  const data = (error as { data?: unknown }).data;
  return { code, message, ...(data !== undefined ? { data } : {}) };
}

/** Serves one classified 2026-07-28 request over HTTP, to its end. */
export async function serveStatelessRequest(req: IncomingMessage, res: ServerResponse, message: JSONRPCRequest, options: StatelessExchangeOptions): Promise<void> {
  const answer = new Answer(res, options.keepAliveMs);
  const aborted = new AbortController();
  res.once("close", () => {
    if (!answer.done) aborted.abort(new Error("the client closed the response: the request is cancelled"));
  });
  const outcome = await answerStatelessRequest(message, options, { notify: (n) => answer.notify(n), signal: aborted.signal, headers: req.headers });
  answer.finish(outcome.response, outcome.status, outcome.headers);
}

/** The HTTP answer to one request: JSON while nothing but the result is sent, else an event stream. */
class Answer {
  done = false;
  private streaming = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly keepAliveMs: number | undefined,
  ) {}

  notify(notification: unknown): void {
    if (this.done || this.res.destroyed) return;
    if (!this.streaming) {
      this.streaming = true;
      this.res.writeHead(200, SSE_HEADERS);
      keepStreamAlive(this.res, this.keepAliveMs);
    }
    this.res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", ...(notification as object) })}\n\n`);
  }

  finish(body: unknown, status: number, headers: Record<string, string> = {}): void {
    if (this.done) return;
    this.done = true;
    if (this.res.destroyed) return;
    const text = JSON.stringify(body);
    if (this.streaming) this.res.end(`event: message\ndata: ${text}\n\n`);
    else this.res.writeHead(status, { ...headers, "content-type": "application/json" }).end(text);
  }
}
