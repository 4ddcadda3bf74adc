/**
 * Traces of calls (OpenTelemetry, off by default): the `CallTracer` seam the gateway's call
 * observer uses, and the one function that loads an implementation. Nothing here imports the
 * OpenTelemetry SDK: `openCallTracer` imports `otel-tracer.ts` (and the SDK with it) only when
 * tracing is turned on, so a daemon without tracing loads none of it.
 *
 * A call span's parent is the client's W3C trace context (`traceparent`, `tracestate`), taken from
 * the request's `_meta`, else from its HTTP headers. Its children (routing, queue wait, container
 * start or pool hit, upstream call) are built from the call's own timings; the upstream call span
 * is the parent the upstream request names in its `_meta.traceparent`.
 */
import type { LeaseTimings } from "../launch/launcher.js";
import type { CallMethod, CallOutcome } from "./metrics.js";

export interface TracingSettings {
  /** The OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** `service.name` of the spans (default `mcp-router`). */
  serviceName?: string;
  /** Extra headers for the collector (an auth token). */
  headers?: Record<string, string>;
}

/** The W3C trace context of a request (the client's, or ours for the upstream). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** What a call span is opened with. */
export interface CallSpanStart {
  method: CallMethod;
  /** Tool or prompt name, or the resource URI's server-side name. */
  name: string;
  server: string;
  revision: string;
  call: string;
  session: string;
  /** The client's trace context: the call span's parent. */
  parent: TraceCarrier;
  /** `performance.now()` when the call began. */
  at: number;
}

/** The times the call span's children are built from, all `performance.now()` values. */
export interface CallSpanEnd {
  outcome: CallOutcome;
  /** When the gateway asked the launcher for a lease (routing ends). */
  acquireAt?: number;
  /** When the lease was granted (queue wait and start end, the upstream call begins). */
  leasedAt?: number;
  timings?: LeaseTimings;
  /** Container id (12 chars), when one served the call. */
  container?: string;
  /** The error's code or name, when the call failed. */
  error?: string;
  /** `performance.now()` when the call ended. */
  at: number;
}

export interface CallSpan {
  /** The trace id (32 hex), shared with the client's trace when it sent one. */
  readonly traceId: string;
  /** Opens the upstream call span at `at` (`performance.now()`); its trace context goes upstream in `_meta`. */
  upstream(at: number): TraceCarrier;
  /** Ends the call span (and its upstream call span), adding the children its timings describe. */
  end(result: CallSpanEnd): void;
}

export interface CallTracer {
  startCall(start: CallSpanStart): CallSpan;
  /** Exports what is buffered and stops. */
  close(): Promise<void>;
}

let loaded = false;

/** Loads the OpenTelemetry SDK and opens a tracer exporting to `settings.url`. */
export async function openCallTracer(settings: TracingSettings): Promise<CallTracer> {
  const { createOtelTracer } = await import("./otel-tracer.js");
  loaded = true;
  return createOtelTracer(settings);
}

/** Whether this process loaded the tracer implementation (and so the SDK): tests check it stays unloaded when tracing is off. */
export function tracerLoaded(): boolean {
  return loaded;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = "0".repeat(32);

/** The trace id of a valid W3C `traceparent`, else undefined (no SDK needed: used when tracing is off). */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  const id = match?.[1];
  return id === undefined || id === ZERO_TRACE_ID || traceparent.startsWith("ff") ? undefined : id;
}
