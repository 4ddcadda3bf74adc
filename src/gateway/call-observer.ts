/**
 * What wraps every upstream request of a session, whatever its method: a call id, a child logger
 * (revision, server, tool, call), one log line at the end with its timings, its metrics, its audit
 * line, and secret values scrubbed from what goes back to the client. The request handlers in
 * gateway.ts only route; this file observes.
 */
import type { ClientCapabilities, LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import { isLaunchError } from "../launch/errors.js";
import type { AuditLog, AuditRecord } from "../observe/audit-log.js";
import type { CallMethod, CallOutcome, GatewayMetrics } from "../observe/metrics.js";
import type { CallTracer, TraceCarrier } from "../observe/tracing.js";
import { traceIdOf } from "../observe/tracing.js";
import type { RegistryServer } from "../registry/types.js";
import type { Principal } from "../auth/principal.js";
import { auditKeyOf } from "../auth/principal.js";
import type { Scrub } from "../secrets/secret-scrubber.js";
import type { ServerRoutes } from "./routing-table.js";
import type { CallerContext, CallTrace, HandlerExtra } from "./upstream-call.js";

export interface CallObserverOptions {
  sessionId: string;
  /** Who calls: on every audit line. */
  principal: Principal;
  /** The session's logger. */
  logger: Logger;
  revisionOf(server: RegistryServer): string;
  clientCapabilities(): ClientCapabilities | undefined;
  logLevel(): LoggingLevel | undefined;
  /** `return` for a 2026 caller (see `CallerContext.inputRequired`). */
  inputRequired?: "fulfil" | "return";
  metrics?: GatewayMetrics;
  audit?: AuditLog;
  /** Tracing on: a span per call (see observe/tracing.ts). */
  tracer?: CallTracer;
  scrub?: Scrub;
}

/** Message stem of a call's log lines, by method. */
const CALL_LOG: Record<CallMethod, string> = {
  "tools/call": "tool call",
  "resources/read": "resource read",
  "prompts/get": "prompt get",
  "completion/complete": "completion",
  "tasks/get": "task poll",
  "tasks/update": "task update",
  "tasks/cancel": "task cancel",
};

export class CallObserver {
  #seq = 0;
  readonly #prefix: string;

  constructor(private readonly options: CallObserverOptions) {
    this.#prefix = options.sessionId.slice(0, 8);
  }

  /** Runs one upstream request under observation; its error reaches the caller scrubbed. */
  async observe<T>(method: CallMethod, routes: ServerRoutes, name: string, extra: HandlerExtra, fields: Record<string, unknown>, run: (ctx: CallerContext) => Promise<T>): Promise<T> {
    const { options } = this;
    const target = routes.server;
    const revision = options.revisionOf(target);
    const call = `${this.#prefix}.${++this.#seq}`;
    const t0 = performance.now();
    const trace: CallTrace = { lease: undefined, leasedAt: 0 };
    // The client's trace context: `_meta` first, else the HTTP request's headers.
    const parent = clientTraceContext(extra);
    let traceId: string | undefined;
    if (options.tracer) {
      trace.span = options.tracer.startCall({ method, name, server: target.prefix, revision, call, session: options.sessionId, parent, at: t0 });
      traceId = trace.span.traceId;
    } else if (parent.traceparent !== undefined) {
      traceId = traceIdOf(parent.traceparent);
      if (extra._meta?.traceparent === undefined) trace.clientHeaders = parent;
    }
    const ctx: CallerContext = {
      extra,
      sessionId: options.sessionId,
      clientCapabilities: options.clientCapabilities,
      logLevel: options.logLevel,
      logger: options.logger.child({ call, revision, server: target.prefix, ...fields, ...(traceId ? { traceId } : {}) }),
      trace,
      ...(options.inputRequired ? { inputRequired: options.inputRequired } : {}),
    };
    let outcome: CallOutcome = "ok";
    let failure: unknown;
    try {
      const result = await run(ctx);
      if ((result as { isError?: unknown }).isError === true) outcome = "tool_error";
      // An upstream that echoes a secret it was given (its token, a header) must not hand it to the client.
      if (options.scrub) scrubStrings(result, options.scrub);
      return result;
    } catch (error) {
      outcome = outcomeOf(error, extra.signal);
      failure = clientError(error, options.scrub);
      throw failure;
    } finally {
      const t1 = performance.now();
      this.#record({ method, name, target: target.prefix, revision, call, ctx, trace, traceId, outcome, failure, ms: t1 - t0, at: t1 });
    }
  }

  #record(c: { method: CallMethod; name: string; target: string; revision: string; call: string; ctx: CallerContext; trace: CallTrace; traceId: string | undefined; outcome: CallOutcome; failure: unknown; ms: number; at: number }): void {
    const { metrics, audit } = this.options;
    const lease = c.trace.lease;
    const queueMs = lease?.timings.queueMs;
    const startMs = lease?.timings.startMs;
    const callMs = lease ? c.at - c.trace.leasedAt : undefined;
    const container = lease?.containerId?.slice(0, 12);
    c.trace.span?.end({
      outcome: c.outcome,
      at: c.at,
      ...(c.trace.acquireAt !== undefined ? { acquireAt: c.trace.acquireAt } : {}),
      ...(lease ? { leasedAt: c.trace.leasedAt, timings: lease.timings } : {}),
      ...(container ? { container } : {}),
      ...(c.failure !== undefined ? { error: auditError(c.failure).code } : {}),
    });
    metrics?.observeCall(c.target, c.method, c.name, c.outcome, { queueMs, startMs, callMs });
    metrics?.observePrincipal(this.options.principal.id, c.outcome);
    const failed = c.outcome === "error" || c.outcome === "timeout";
    const level = failed ? "warn" : c.method === "completion/complete" ? "debug" : "info";
    const ms = tenths(c.ms);
    const q = queueMs === undefined ? undefined : tenths(queueMs);
    const st = startMs ? tenths(startMs) : undefined;
    if (c.ctx.logger.isLevelEnabled(level)) {
      const line = {
        outcome: c.outcome,
        ms,
        ...(q !== undefined ? { queueMs: q } : {}),
        ...(st !== undefined ? { startMs: st } : {}),
        ...(callMs !== undefined ? { callMs: tenths(callMs) } : {}),
        ...(container ? { container } : {}),
        ...(failed ? { err: (c.failure as Error | undefined)?.message } : {}),
      };
      c.ctx.logger[level](line, `${CALL_LOG[c.method]} ${failed ? "failed" : c.outcome === "cancelled" ? "cancelled" : "done"}`);
    }
    if (audit && c.method !== "completion/complete") {
      audit.record({
        time: new Date().toISOString(),
        key: auditKeyOf(this.options.principal),
        principal: this.options.principal.id,
        session: this.options.sessionId,
        call: c.call,
        method: c.method,
        server: c.target,
        ...(c.method === "resources/read" ? {} : { tool: c.name }),
        revision: c.revision,
        ...(c.traceId ? { traceId: c.traceId } : {}),
        ...(container ? { container } : {}),
        durationMs: ms,
        ...(q !== undefined ? { queueMs: q } : {}),
        ...(st !== undefined ? { startMs: st } : {}),
        outcome: c.outcome,
        ...(c.failure !== undefined ? { error: auditError(c.failure) } : {}),
      });
    }
  }
}

/**
 * An error as the client gets it: secret values scrubbed from its message and data, and an
 * McpError's message without the SDK's `MCP error <code>: ` prefix, which the client's SDK adds
 * again (else it reads twice). Changes the error in place and returns it.
 */
export function clientError(error: unknown, scrub: Scrub | undefined): unknown {
  if (!(error instanceof Error)) return error;
  const clean = scrub ?? ((text: string) => text);
  const bare = error instanceof McpError ? error.message.replace(/^MCP error -?\d+: /, "") : error.message;
  const message = clean(bare);
  if (message !== error.message) error.message = message;
  if (!scrub) return error;
  const data = (error as { data?: unknown }).data;
  if (data !== undefined) {
    const json = JSON.stringify(data);
    const scrubbed = scrub(json);
    if (scrubbed !== json) Object.defineProperty(error, "data", { value: JSON.parse(scrubbed) as unknown, configurable: true, enumerable: true });
  }
  return error;
}

/**
 * Scrubs secret values from every string of a result, in place: text content, structured content,
 * resource text, prompt messages, error text. Base64 payloads (`data`, `blob`) are skipped: a
 * secret cannot appear in them as it is, and they are the bulk of large results.
 */
export function scrubStrings(value: unknown, scrub: Scrub): void {
  if (value === null || typeof value !== "object") return;
  const node = value as Record<string, unknown>;
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (typeof child === "string") {
      if (key === "data" || key === "blob") continue;
      const clean = scrub(child);
      if (clean !== child) node[key] = clean;
    } else if (child !== null && typeof child === "object") scrubStrings(child, scrub);
  }
}

/** The W3C trace context the client sent: in the request's `_meta`, else in its HTTP headers (a header sent twice is not used). */
function clientTraceContext(extra: HandlerExtra): TraceCarrier {
  const meta = extra._meta as Record<string, unknown> | undefined;
  if (typeof meta?.traceparent === "string") return { traceparent: meta.traceparent, ...(typeof meta.tracestate === "string" ? { tracestate: meta.tracestate } : {}) };
  const headers = extra.requestInfo?.headers;
  const traceparent = headers?.traceparent;
  if (typeof traceparent !== "string") return {};
  const tracestate = headers?.tracestate;
  return { traceparent, ...(typeof tracestate === "string" ? { tracestate } : {}) };
}

function outcomeOf(error: unknown, signal: AbortSignal): CallOutcome {
  if (signal.aborted || isLaunchError(error, "ABORTED")) return "cancelled";
  if (isLaunchError(error, "TIMEOUT") || (error instanceof McpError && error.code === ErrorCode.RequestTimeout)) return "timeout";
  return "error";
}

/** An error for the audit line: our own (launch) errors with their message; an upstream message may echo arguments, so only its code. */
function auditError(error: unknown): NonNullable<AuditRecord["error"]> {
  if (isLaunchError(error)) return { code: error.reason, message: error.message };
  if (error instanceof McpError) return { code: String(error.code) };
  return { code: error instanceof Error ? error.name : "Error" };
}

const tenths = (ms: number): number => Math.round(ms * 10) / 10;
