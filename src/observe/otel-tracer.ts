/**
 * The `CallTracer` over the OpenTelemetry JS SDK: a tracer provider of its own (never registered
 * globally), a batch span processor and the OTLP/HTTP (JSON) exporter. Loaded only by
 * `openCallTracer` (tracing.ts), so the SDK stays out of a daemon that does not trace.
 *
 * Context is passed explicitly (no context manager, no async hooks): the call span's parent is
 * extracted from the client's carrier, the upstream span's context injected into the upstream's.
 * Queue wait, container start and pool hit happened inside the launcher and are known only by
 * their durations once the lease is granted: they are recorded after the fact with explicit start
 * and end times, which costs no more than creating the span objects.
 */
import type { Context, Span, TextMapGetter, TextMapSetter } from "@opentelemetry/api";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { VERSION } from "../version.js";
import type { CallSpan, CallSpanEnd, CallSpanStart, CallTracer, TraceCarrier, TracingSettings } from "./tracing.js";

const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === "traceparent" || key === "tracestate" ? carrier[key] : undefined),
};
const setter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === "traceparent" || key === "tracestate") carrier[key] = value;
  },
};

/** `performance.now()` -> epoch milliseconds, the time the SDK takes. */
const epoch = (at: number): number => performance.timeOrigin + at;

export function createOtelTracer(settings: TracingSettings): CallTracer {
  const exporter = new OTLPTraceExporter({ url: settings.url, ...(settings.headers ? { headers: settings.headers } : {}) });
  const provider = new TracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ "service.name": settings.serviceName ?? "mcp-router", "service.version": VERSION })),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer("mcp-router", VERSION);
  const propagator = new W3CTraceContextPropagator();

  return {
    startCall(start: CallSpanStart): CallSpan {
      const parent: Context = start.parent.traceparent ? propagator.extract(ROOT_CONTEXT, start.parent, getter) : ROOT_CONTEXT;
      const span = tracer.startSpan(
        `${start.method} ${start.name}`,
        {
          kind: SpanKind.SERVER,
          startTime: epoch(start.at),
          attributes: {
            "mcp.method.name": start.method,
            ...(start.method === "tools/call" ? { "gen_ai.tool.name": start.name, "gen_ai.operation.name": "execute_tool" } : start.method === "prompts/get" ? { "gen_ai.prompt.name": start.name } : {}),
            "mcp.session.id": start.session,
            "mcp_router.server": start.server,
            "mcp_router.revision": start.revision,
            "mcp_router.call": start.call,
          },
        },
        parent,
      );
      const own = trace.setSpan(parent, span);
      let upstream: Span | undefined;
      return {
        traceId: span.spanContext().traceId,
        upstream(at) {
          upstream = tracer.startSpan("upstream call", { kind: SpanKind.CLIENT, startTime: epoch(at) }, own);
          const carrier: TraceCarrier = {};
          propagator.inject(trace.setSpan(own, upstream), carrier, setter);
          return carrier;
        },
        end(result: CallSpanEnd) {
          const child = (name: string, from: number, to: number, attributes?: Record<string, string | number | boolean>): void => {
            tracer.startSpan(name, { startTime: epoch(from), ...(attributes ? { attributes } : {}) }, own).end(epoch(to));
          };
          if (span.isRecording()) {
            if (result.acquireAt !== undefined) child("routing", start.at, result.acquireAt);
            if (result.acquireAt !== undefined && result.leasedAt !== undefined && result.timings) {
              const { queueMs, startMs, warm } = result.timings;
              const queued = Math.min(result.acquireAt + queueMs, result.leasedAt);
              if (queueMs > 0) child("queue wait", result.acquireAt, queued);
              if (warm) child("pool hit", queued, result.leasedAt);
              else if (startMs > 0) child(result.container ? "container start" : "upstream start", queued, Math.min(queued + startMs, result.leasedAt));
            }
            span.setAttribute("mcp_router.outcome", result.outcome);
            if (result.container) span.setAttribute("container.id", result.container);
            if (result.error !== undefined) {
              span.setAttribute("error.type", result.error);
              span.setStatus({ code: SpanStatusCode.ERROR });
            }
          }
          upstream?.end(epoch(result.at));
          span.end(epoch(result.at));
        },
      };
    },
    async close() {
      await provider.shutdown();
    },
  };
}
