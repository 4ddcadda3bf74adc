/**
 * Tracing off (the default): no OpenTelemetry code is loaded (this file runs in its own process,
 * so `tracerLoaded()` covers everything it did), a call without a traceparent has no trace id
 * anywhere, and a client's traceparent still passes upstream as it is, its trace id on the audit
 * line. Plus how the CLI turns `--otel-endpoint` and the standard OTEL_ environment into settings.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { tracingConfig } from "../../src/cli/serve-commands.js";
import { traceIdOf, tracerLoaded } from "../../src/observe/tracing.js";
import { initializeSession, mcpHeaders, sessionRequest, startInProcessDaemon } from "../support/in-process-daemon.js";

describe("tracing off", () => {
  it("loads no tracer, adds no trace id, passes the client's traceparent through as it is", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mcp-router-tracing-off-"));
    const d = await startInProcessDaemon({ audit: { target: join(dir, "audit.jsonl") } });
    const metas: (Record<string, unknown> | undefined)[] = [];
    d.probeEvents.on("called", (event) => metas.push(event.meta));
    try {
      assert.equal(d.daemon.tracer, undefined);
      const { sessionId } = await initializeSession(d.url, d.key);
      await sessionRequest(d.url, d.key, sessionId!, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "percall__whoami", arguments: {} } });
      const traceId = randomBytes(16).toString("hex");
      const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
      const res = await fetch(new URL("/mcp", d.url), {
        method: "POST",
        headers: mcpHeaders(d.key, { "mcp-session-id": sessionId!, "mcp-protocol-version": "2025-06-18", traceparent, tracestate: "vendor=2" }),
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "percall__whoami", arguments: {} } }),
      });
      await res.text();
      await d.close();
      assert.equal(metas[0]?.traceparent, undefined, "no trace context made up");
      assert.deepEqual([metas[1]?.traceparent, metas[1]?.tracestate], [traceparent, "vendor=2"], "the header's trace context goes upstream in _meta");
      const lines = (await readFile(join(dir, "audit.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 2);
      assert.equal("traceId" in lines[0]!, false, "no traceId field without a traceparent");
      assert.equal(lines[1]!.traceId, traceId, "the client's trace id, for finding the call from its trace");
      assert.equal(tracerLoaded(), false, "the OpenTelemetry SDK was never loaded");
    } finally {
      await d.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads only valid traceparents", () => {
    const id = "4bf92f3577b34da6a3ce929d0e0e4736";
    assert.equal(traceIdOf(`00-${id}-00f067aa0ba902b7-01`), id);
    assert.equal(traceIdOf(`00-${"0".repeat(32)}-00f067aa0ba902b7-01`), undefined);
    assert.equal(traceIdOf(`ff-${id}-00f067aa0ba902b7-01`), undefined);
    assert.equal(traceIdOf("garbage"), undefined);
  });
});

describe("tracing settings from the CLI", () => {
  it("is off without an endpoint, and with OTEL_SDK_DISABLED", () => {
    assert.equal(tracingConfig({}, {}), undefined);
    assert.equal(tracingConfig({ otelEndpoint: "http://c:4318" }, { OTEL_SDK_DISABLED: "true" }), undefined);
  });

  it("appends /v1/traces to a base URL, takes the traces endpoint as it is, the flag first", () => {
    assert.deepEqual(tracingConfig({ otelEndpoint: "http://c:4318/" }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x/t" }), { url: "http://c:4318/v1/traces" });
    assert.deepEqual(tracingConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }), { url: "http://c:4318/v1/traces" });
    assert.deepEqual(tracingConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom" }), { url: "http://t:4318/custom" });
  });

  it("takes the service name and headers", () => {
    assert.deepEqual(tracingConfig({ otelEndpoint: "https://c" }, { OTEL_SERVICE_NAME: "gw", OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x=1", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x=2" }), {
      url: "https://c/v1/traces",
      serviceName: "gw",
      headers: { authorization: "Bearer abc", x: "2" },
    });
  });

  it("refuses what is not an OTLP/HTTP URL, with a hint", () => {
    assert.throws(() => tracingConfig({ otelEndpoint: "not a url" }, {}), /BAD_OTEL_ENDPOINT|not a URL/);
    assert.throws(() => tracingConfig({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc://c:4317" }), /OTLP\/HTTP/);
  });
});
