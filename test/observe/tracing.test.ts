/**
 * OpenTelemetry traces, end to end without Docker: the daemon as `serve` assembles it, tracing to
 * a local HTTP server that plays the OTLP/HTTP collector (the exporter sends JSON), serving the
 * in-process probe server. A client that sends a W3C traceparent (in `_meta`, or as an HTTP
 * header) gets one trace: its span -> the gateway's call span -> routing, start, upstream call ->
 * the upstream, whose `_meta.traceparent` names the gateway's upstream call span.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tracerLoaded } from "../../src/observe/tracing.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { initializeSession, mcpHeaders, sessionRequest, startInProcessDaemon } from "../support/in-process-daemon.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}

/** A collector: every span of every OTLP/HTTP JSON export POSTed to /v1/traces, and the resources' service names. */
async function startCollector(): Promise<{ server: Server; url: string; spans: OtlpSpan[]; services: string[]; contentTypes: string[] }> {
  const spans: OtlpSpan[] = [];
  const services: string[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      contentTypes.push(String(req.headers["content-type"]));
      if (req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
          if (service) services.push(service);
          for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, services, contentTypes };
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");
const attr = (span: OtlpSpan, key: string): string | undefined => span.attributes.find((a) => a.key === key)?.value.stringValue;

describe("tracing on: a span per call, in the client's trace", () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let d: InProcessDaemon;
  let dir: string;
  const upstreamMeta: (Record<string, unknown> | undefined)[] = [];
  const clientTrace = { traceId: hex(16), spanId: hex(8) };
  const headerTrace = { traceId: hex(16), spanId: hex(8) };

  before(async () => {
    collector = await startCollector();
    dir = await mkdtemp(join(tmpdir(), "mcp-router-tracing-"));
    d = await startInProcessDaemon({ tracing: { url: collector.url, serviceName: "router-under-test" }, audit: { target: join(dir, "audit.jsonl") } });
    d.probeEvents.on("called", (event) => upstreamMeta.push(event.meta));
    const { sessionId } = await initializeSession(d.url, d.key);
    // Through `_meta`, with a tracestate...
    const viaMeta = await sessionRequest(d.url, d.key, sessionId!, {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "percall__whoami", arguments: {}, _meta: { traceparent: `00-${clientTrace.traceId}-${clientTrace.spanId}-01`, tracestate: "vendor=1" } },
    });
    assert.match(JSON.stringify(viaMeta.body), /instance \d+/);
    // ...and as an HTTP header only.
    const res = await fetch(new URL("/mcp", d.url), {
      method: "POST",
      headers: mcpHeaders(d.key, { "mcp-session-id": sessionId!, "mcp-protocol-version": "2025-06-18", traceparent: `00-${headerTrace.traceId}-${headerTrace.spanId}-01` }),
      body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "percall__whoami", arguments: {} } }),
    });
    assert.equal(res.status, 200);
    await res.text();
    // Closing the daemon flushes the spans.
    await d.close();
  });

  after(async () => {
    collector.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the tracer, exports OTLP JSON under the configured service name", () => {
    assert.equal(tracerLoaded(), true);
    assert.ok(collector.contentTypes.every((t) => t.startsWith("application/json")), collector.contentTypes.join());
    assert.ok(collector.services.length > 0 && collector.services.every((s) => s === "router-under-test"), collector.services.join());
  });

  for (const [how, ids, index] of [["_meta", clientTrace, 0], ["the traceparent header", headerTrace, 1]] as const) {
    it(`keeps one trace from the client's span (${how}) to the upstream's _meta`, () => {
      const spans = collector.spans.filter((s) => s.traceId === ids.traceId);
      const call = spans.find((s) => s.name === "tools/call percall__whoami" || s.name === "tools/call whoami");
      assert.ok(call, `a call span in the client's trace: ${spans.map((s) => s.name).join(", ")}`);
      assert.equal(call.parentSpanId, ids.spanId, "the call span's parent is the client's span");
      assert.equal(call.kind, 2, "SERVER");
      assert.equal(attr(call, "mcp.method.name"), "tools/call");
      assert.equal(attr(call, "mcp_router.server"), "percall");
      assert.equal(attr(call, "mcp_router.outcome"), "ok");
      const children = spans.filter((s) => s.parentSpanId === call.spanId);
      const names = children.map((s) => s.name).sort();
      assert.ok(names.includes("routing"), names.join());
      assert.ok(names.includes("upstream call"), names.join());
      assert.ok(names.includes("upstream start") || names.includes("container start") || names.includes("pool hit"), names.join());
      for (const child of children) {
        assert.ok(BigInt(child.startTimeUnixNano) >= BigInt(call.startTimeUnixNano), `${child.name} starts inside the call`);
        assert.ok(BigInt(child.endTimeUnixNano) <= BigInt(call.endTimeUnixNano), `${child.name} ends inside the call`);
      }
      const upstreamSpan = children.find((s) => s.name === "upstream call")!;
      assert.equal(upstreamSpan.kind, 3, "CLIENT");
      const meta = upstreamMeta[index];
      assert.match(String(meta?.traceparent), new RegExp(`^00-${ids.traceId}-${upstreamSpan.spanId}-01$`), "the upstream is told the gateway's upstream call span");
      if (index === 0) assert.equal(meta?.tracestate, "vendor=1", "the client's tracestate goes on");
    });
  }

  it("writes the trace id on the audit lines", async () => {
    const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { traceId?: string });
    assert.deepEqual(
      lines.map((l) => l.traceId),
      [clientTrace.traceId, headerTrace.traceId],
    );
  });
});
