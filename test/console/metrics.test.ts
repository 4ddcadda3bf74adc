/** Metrics at a glance: from the daemon's own registry, per server and over time. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MetricsSampler, quantile } from "../../src/console/metrics-view.js";
import { GatewayMetrics } from "../../src/observe/metrics.js";
import { signIn } from "../support/console-client.js";
import type { InProcessDaemon } from "../support/in-process-daemon.js";
import { startInProcessDaemon } from "../support/in-process-daemon.js";

describe("console metrics", () => {
  it("estimates quantiles from cumulative buckets as histogram_quantile does", () => {
    const buckets = [
      { le: 0.01, count: 10 },
      { le: 0.1, count: 90 },
      { le: 1, count: 100 },
      { le: Infinity, count: 100 },
    ];
    assert.equal(quantile(buckets, 0.5), 0.01 + (0.1 - 0.01) * (40 / 80));
    assert.equal(quantile(buckets, 0.95), 0.1 + (1 - 0.1) * (5 / 10));
    assert.equal(quantile([{ le: Infinity, count: 0 }], 0.5), undefined);
    assert.equal(quantile([{ le: 1, count: 1 }, { le: Infinity, count: 3 }], 0.9), 1, "past the last finite bound: that bound");
  });

  it("per server calls by outcome and latency; calls per minute between samples", async () => {
    let now = 0;
    const metrics = new GatewayMetrics({ processMetrics: false });
    const sampler = new MetricsSampler(metrics, 60_000, 10, () => now);
    try {
      await sampler.sample();
      for (let i = 0; i < 8; i++) metrics.observeCall("a", "tools/call", "t", "ok", { callMs: 20 });
      metrics.observeCall("a", "tools/call", "t", "tool_error", { callMs: 20 });
      metrics.observeCall("b", "tools/call", "u", "timeout", { callMs: 3000 });
      now = 30_000;
      await sampler.sample();
      const view = await sampler.view();
      assert.deepEqual(
        view.servers.map((s) => [s.server, s.calls, s.ok, s.toolErrors, s.failed]),
        [
          ["a", 9, 8, 1, 0],
          ["b", 1, 0, 0, 1],
        ],
      );
      const a = view.servers[0]!;
      assert.ok(a.p50Ms! > 10 && a.p50Ms! <= 25, `p50 ${a.p50Ms}`);
      assert.deepEqual(view.perMinute.at(-1)?.callsPerMinute, 20, "10 calls in half a minute");
    } finally {
      sampler.close();
    }
  });

  describe("through the console API", () => {
    let d: InProcessDaemon;
    before(async () => {
      d = await startInProcessDaemon();
    });
    after(() => d.close());

    it("shows the calls made through the gateway", async () => {
      const client = await signIn(d.url, d.key);
      for (let i = 0; i < 3; i++) await client.request("servers/percall/tools/whoami/call", { method: "POST", body: { arguments: {} } });
      const view = (await client.request("metrics")).body;
      const percall = view.servers.find((s: { server: string }) => s.server === "percall");
      assert.equal(percall.calls, 3);
      assert.equal(percall.ok, 3);
      assert.ok(percall.p50Ms > 0);
      assert.equal((await fetch(new URL("/api/console/metrics", d.url))).status, 401);
    });
  });
});
