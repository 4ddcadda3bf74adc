/**
 * One request of a client session, run against the server that owns it, with everything the
 * protocol carries during the call passed through: progress (token mapped both ways), logging
 * messages, cancellation (abort -> the launcher kills a per-call container), and sampling and
 * elicitation requests from the server, forwarded to the very session that made the call.
 *
 * The upstream may be of either era (`UpstreamClient`). A 2025 one asks mid-call; a 2026 one answers
 * `input_required`, which its client either fulfils through the same forwarding handlers (for a 2025
 * caller) or hands back as it is (`inputRequired: "return"`, for a 2026 caller, who answers it with
 * the upstream's own keys). A 2026 upstream also gets the caller's capabilities and log level on
 * each request, so it asks only what the caller can answer.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ClientCapabilities, CreateMessageRequest, ElicitRequest, ListRootsRequest, LoggingLevel, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { CreateMessageResultSchema, CreateMessageResultWithToolsSchema, ElicitResultSchema, ErrorCode, ListRootsResultSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import { CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY, PROTOCOL_VERSION_META_KEY } from "@modelcontextprotocol/server";
import type { Launcher, Lease, UpstreamClient, UpstreamRequestOptions } from "../launch/launcher.js";
export { isUpstreamInputRequired, isUpstreamTask } from "../launch/launcher.js";
import type { CallSpan, TraceCarrier } from "../observe/tracing.js";
import type { ServerRoutes } from "./routing-table.js";
import { upstreamCapabilities } from "./task-handles.js";

export type HandlerExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The client session a call came from. */
export interface CallerContext {
  readonly extra: HandlerExtra;
  /** Session id handed to the launcher (per-session containers). */
  readonly sessionId: string;
  /** What the calling client declared (sampling, elicitation). */
  readonly clientCapabilities: () => ClientCapabilities | undefined;
  /** The level the client asked for with logging/setLevel, if any. */
  readonly logLevel: () => LoggingLevel | undefined;
  readonly logger: Logger;
  /** Filled in once a lease is acquired: its container and timings (for metrics and the audit log). */
  readonly trace?: CallTrace;
  /** `return` for a 2026 caller: a modern upstream's `input_required` is passed back as it is (default `fulfil`). */
  readonly inputRequired?: "fulfil" | "return";
}

/** What a call learned about its lease; `acquireAt` and `leasedAt` are `performance.now()` when it was asked for and granted. */
export interface CallTrace {
  lease: Lease | undefined;
  acquireAt?: number;
  leasedAt: number;
  /** The call's span, when tracing is on: the upstream request carries its upstream call span's trace context. */
  span?: CallSpan;
  /** Tracing off: the client's trace context when it came in HTTP headers only, passed upstream in `_meta` as it is. */
  clientHeaders?: TraceCarrier;
}

/** No SDK-side timeout upstream: the launcher enforces the server's own limit. */
const NO_TIMEOUT = 2 ** 31 - 1;
/** How long a forwarded sampling/elicitation request may wait for the person or model. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60_000;
/** Pause between the last forwarded progress and the response (only for calls that reported progress). */
const PROGRESS_SETTLE_MS = 10;

interface ActiveCall {
  caller: CallerContext;
  /** The token put on the upstream request when the caller asked for progress. */
  upstreamToken: string | undefined;
  /** Whether a progress notification was forwarded for this call. */
  progressed: boolean;
}

let tokenSeq = 0;

/** Calls in progress on each upstream client (one for per-call servers; several for shared ones). */
const activeCalls = new WeakMap<UpstreamClient, ActiveCall[]>();

function currentCall(client: UpstreamClient): ActiveCall | undefined {
  const calls = activeCalls.get(client);
  return calls?.[calls.length - 1];
}

function requireCapability(call: ActiveCall | undefined, capability: "sampling" | "elicitation" | "roots", method: string): ActiveCall {
  if (!call) throw new McpError(ErrorCode.InvalidRequest, `${method} arrived while no client call was in progress; mcp-router forwards it only during a call`);
  if (!call.caller.clientCapabilities()?.[capability]) {
    throw new McpError(ErrorCode.InvalidRequest, `the connected client does not support ${capability} (${method}); use a client that declares the ${capability} capability`);
  }
  return call;
}

/** Installs the forwarding handlers on an upstream client once; they route to the call in progress. */
function attach(client: UpstreamClient, call: ActiveCall): () => void {
  let calls = activeCalls.get(client);
  if (!calls) {
    calls = [];
    activeCalls.set(client, calls);
    client.onRequest("sampling/createMessage", async (request, ex) => {
      const target = requireCapability(currentCall(client), "sampling", request.method);
      const schema = request.params?.tools ? CreateMessageResultWithToolsSchema : CreateMessageResultSchema;
      target.caller.logger.debug("forwarding sampling/createMessage to the client");
      return target.caller.extra.sendRequest(request as CreateMessageRequest, schema, { signal: ex.signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
    });
    client.onRequest("elicitation/create", async (request, ex) => {
      const target = requireCapability(currentCall(client), "elicitation", request.method);
      target.caller.logger.debug("forwarding elicitation/create to the client");
      return target.caller.extra.sendRequest(request as ElicitRequest, ElicitResultSchema, { signal: ex.signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
    });
    // A modern upstream may ask for roots (in an input_required round); a legacy client declares no
    // roots capability, so its servers never ask (they keep their configured folders).
    if (client.era === "modern") {
      client.onRequest("roots/list", async (request, ex) => {
        const target = requireCapability(currentCall(client), "roots", request.method);
        target.caller.logger.debug("forwarding roots/list to the client");
        return target.caller.extra.sendRequest(request as ListRootsRequest, ListRootsResultSchema, { signal: ex.signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
      });
    }
    // Our own progress routing, not the SDK's `onprogress`: the SDK drops a progress notification
    // that arrives in the same chunk as the response (its handler runs a microtask later, after
    // the response already removed the token). Ours looks the token up among the calls still attached.
    client.onNotification("notifications/progress", async (notification) => {
      const params = notification.params ?? {};
      const target = activeCalls.get(client)?.find((c) => c.upstreamToken !== undefined && c.upstreamToken === params.progressToken);
      const token = target?.caller.extra._meta?.progressToken;
      if (!target || token === undefined) return;
      target.progressed = true;
      await target.caller.extra.sendNotification({ method: "notifications/progress", params: { ...params, progressToken: token } } as ServerNotification).catch(() => undefined);
    });
    client.onNotification("notifications/message", async (notification) => {
      const target = currentCall(client);
      if (target) await target.caller.extra.sendNotification(notification as ServerNotification).catch(() => undefined);
    });
  }
  calls.push(call);
  const list = calls;
  return () => {
    const i = list.indexOf(call);
    if (i >= 0) list.splice(i, 1);
  };
}

/**
 * The `_meta` keys of the caller's own hop (its protocol version, capabilities, identity, log
 * level): the gateway speaks to the upstream in its own name, so these never pass through.
 * Everything else (`traceparent`, `tracestate`, a client's own keys) does; when tracing is on, the
 * trace context is the gateway's upstream call span (a descendant of the client's span) instead.
 */
const HOP_META_KEYS = new Set(["progressToken", PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, LOG_LEVEL_META_KEY]);

/** `_meta` for the upstream request: the caller's, without its hop's keys, with its progress token (and, tracing, its trace context) replaced by ours. */
function upstreamMeta(meta: Record<string, unknown> | undefined, upstreamToken: string | undefined, traced: TraceCarrier | undefined): { _meta?: Record<string, unknown> } {
  const rest = Object.fromEntries(Object.entries(meta ?? {}).filter(([k]) => !HOP_META_KEYS.has(k)));
  if (upstreamToken !== undefined) rest.progressToken = upstreamToken;
  if (traced?.traceparent !== undefined) {
    rest.traceparent = traced.traceparent;
    if (traced.tracestate !== undefined) rest.tracestate = traced.tracestate;
    else delete rest.tracestate;
  }
  return Object.keys(rest).length > 0 ? { _meta: rest } : {};
}

/**
 * Acquires a lease on the route's server for the caller, runs `fn` under it, releases it.
 * Launch failures are McpErrors (LaunchError) and reach the client as JSON-RPC errors.
 */
export async function upstreamCall<T>(
  launcher: Launcher,
  routes: ServerRoutes,
  caller: CallerContext,
  fn: (client: UpstreamClient, options: UpstreamRequestOptions, meta: { _meta?: Record<string, unknown> }) => Promise<T>,
): Promise<T> {
  const signal = caller.extra.signal;
  const era = caller.inputRequired === "return" ? "modern" : "legacy";
  if (caller.trace) caller.trace.acquireAt = performance.now();
  const lease = await launcher.acquire(routes.server, { sessionId: caller.sessionId, signal, era });
  let traced: TraceCarrier | undefined;
  if (caller.trace) {
    caller.trace.lease = lease;
    caller.trace.leasedAt = performance.now();
    traced = caller.trace.span ? caller.trace.span.upstream(caller.trace.leasedAt) : caller.trace.clientHeaders;
  }
  const upstreamToken = caller.extra._meta?.progressToken !== undefined ? `mcp-router-${process.pid}-${++tokenSeq}` : undefined;
  const call: ActiveCall = { caller, upstreamToken, progressed: false };
  const detach = attach(lease.client, call);
  try {
    const result = await lease.run(async (client, runSignal) => {
      const level = routes.logging ? caller.logLevel() : undefined;
      if (level && client.serverCapabilities()?.logging) await client.setLoggingLevel(level, { signal: runSignal, timeout: NO_TIMEOUT });
      const options: UpstreamRequestOptions = {
        signal: runSignal,
        timeout: NO_TIMEOUT,
        // A server that cannot keep a task past this request is not told the caller follows tasks.
        caller: { capabilities: upstreamCapabilities(routes.server, caller.clientCapabilities()), logLevel: level },
        inputRequired: caller.inputRequired ?? "fulfil",
      };
      return fn(client, options, upstreamMeta(caller.extra._meta, upstreamToken, traced));
    }, signal);
    // SDK clients drop a progress notification that reaches them in the same read as the
    // response (their progress handler runs a microtask after the response removed the token):
    // let the last progress leave in its own write first.
    if (call.progressed) await new Promise((resolve) => setTimeout(resolve, PROGRESS_SETTLE_MS));
    return result;
  } finally {
    detach();
    lease.release();
  }
}
