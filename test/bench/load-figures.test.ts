/**
 * The load bench's arithmetic (bench/load/): the issue's figures from samples, samples merged
 * across rounds, every call of a steady rate issued and answered, and the flags' errors. No timing
 * is asserted: the callers here answer at once, and only counts and derived figures are checked.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLoadFlags } from "../../bench/load.js";
import { emptySample, mergeSample, steadyRate, type Caller, type Sample } from "../../bench/load/drive.js";
import { loadFigures, type LoadResult } from "../../bench/load/load-figures.js";
import type { Target } from "../../bench/load/peers.js";

const endpoint = { url: new URL("http://127.0.0.1:1/mcp"), transport: "streamable-http" as const, tool: "echo" };
const target = (name: string): Target => ({ name, setup: "", endpoint });

/** A sample of `calls` calls in one second, every one taking `ms`, the gateway spending `cpu` ms per call. */
function sample(calls: number, ms: number, cpu = 0): Sample {
  return { calls, errors: 0, seconds: 1, latencies: Array.from({ length: calls }, () => ms), cpu: { client: 0, gateway: cpu * calls, upstream: 0 } };
}

function result(name: string, byClients: Array<[number, Sample]>, steady?: Sample): LoadResult {
  return { target: target(name), byClients: new Map(byClients), ...(steady ? { steady: { rate: 50, sample: steady } } : {}) };
}

describe("load figures", () => {
  it("meets the throughput target at 0.8x direct and misses it below, at the highest concurrency", () => {
    const direct = result("direct", [[1, sample(100, 1)], [64, sample(1000, 60)]]);
    const at = (ours: number) => loadFigures([direct, result("mcp-router", [[1, sample(90, 2)], [64, sample(ours, 70)]])], 64).find((r) => r.name.includes("throughput, 64 clients"))!;
    assert.equal(at(800).ok, true);
    assert.equal(at(800).ratio, 0.8);
    assert.equal(at(799).ok, false);
  });

  it("takes the p99 overhead at half of saturation as ours minus direct, against +2 ms", () => {
    const direct = result("direct", [[64, sample(1000, 60)]], sample(100, 5));
    const rows = (oursMs: number) => loadFigures([direct, result("mcp-router", [[64, sample(900, 70)]], sample(100, oursMs))], 64);
    const met = rows(7).find((r) => r.name.includes("p99 overhead at half"))!;
    assert.equal(met.value, 2);
    assert.equal(met.ok, true);
    assert.equal(rows(7.5).find((r) => r.name.includes("p99 overhead at half"))!.ok, false);
  });

  it("compares every peer row with ours: throughput per concurrency, overhead at one client, CPU per call", () => {
    const direct = result("direct", [[1, sample(100, 1)], [64, sample(1000, 60)]]);
    const ours = result("mcp-router", [[1, sample(90, 2)], [64, sample(900, 70)]]);
    ours.byClients.get(64)!.cpu!.gateway = 900 * 1.5;
    const peer = result("peer", [[1, sample(80, 3)], [64, sample(950, 65)]]);
    peer.byClients.get(64)!.cpu!.gateway = 950 * 1;
    const rows = loadFigures([direct, ours, peer], 64);
    assert.equal(rows.find((r) => r.name === "load: throughput vs peer, 1 clients")!.ok, true);
    assert.equal(rows.find((r) => r.name === "load: throughput vs peer, 64 clients")!.ok, false);
    const overhead = rows.find((r) => r.name === "load: overhead p50 at 1 client vs peer")!;
    assert.deepEqual([overhead.value, overhead.baseline?.value, overhead.ok], [1, 2, true]);
    const cpu = rows.find((r) => r.name === "load: gateway CPU per call at 64 clients vs peer")!;
    assert.deepEqual([cpu.value, cpu.baseline?.value, cpu.ok], [1.5, 1, false]);
  });

  it("says why a peer was not measured instead of comparing with it", () => {
    const direct = result("direct", [[64, sample(1000, 60)]]);
    const failed: LoadResult = { target: { name: "mcp-hub", setup: "", failed: "exited (1) before it was ready" }, byClients: new Map(), failed: "exited (1) before it was ready" };
    const rows = loadFigures([direct, result("mcp-router", [[64, sample(900, 70)]]), failed], 64);
    assert.ok(rows.some((r) => r.name === "load: vs mcp-hub: not measured (exited (1) before it was ready)"));
    assert.ok(!rows.some((r) => r.name.includes("throughput vs mcp-hub")));
  });
});

describe("load samples", () => {
  it("merges rounds: calls, errors, seconds, latencies and CPU add up; the first error stays", () => {
    const a = { ...sample(10, 1, 2), errors: 1, firstError: "first" };
    const merged = mergeSample(mergeSample(emptySample(), a), { ...sample(5, 3, 4), errors: 2, firstError: "second" });
    assert.deepEqual([merged.calls, merged.errors, merged.seconds, merged.latencies.length, merged.firstError], [15, 3, 2, 15, "first"]);
    assert.equal(merged.cpu!.gateway, 10 * 2 + 5 * 4);
  });

  it("issues every call of a steady rate, queueing them when every caller is busy, and answers each", async () => {
    let calls = 0;
    const caller: Caller = {
      call: async () => {
        calls += 1;
        await new Promise((resolve) => setImmediate(resolve));
      },
      listTools: async () => ["echo"],
      close: async () => undefined,
    };
    const s = await steadyRate([caller], 400, 100);
    assert.equal(s.calls, 40);
    assert.equal(calls, 40);
    assert.equal(s.latencies.length, 40);
    assert.equal(s.errors, 0);
  });

  it("counts a failing call as an error with its message, not as a latency", async () => {
    const caller: Caller = { call: async () => Promise.reject(new Error("upstream said no")), listTools: async () => [], close: async () => undefined };
    const s = await steadyRate([caller], 100, 30);
    assert.deepEqual([s.calls, s.errors, s.firstError, s.latencies.length], [0, 3, "upstream said no", 0]);
  });
});

describe("load flags", () => {
  it("defaults to 1, 16 and 64 clients, every peer, 2 s windows, 3 rounds", () => {
    assert.deepEqual(parseLoadFlags([]), { seconds: 2, rounds: 3, clients: [1, 16, 64], peers: ["mcp-hub", "supergateway", "mcp-proxy"], profile: false, perCall: false });
    assert.deepEqual(parseLoadFlags(["--no-peers", "--clients=8,2", "--per-call"]).clients, [2, 8]);
  });

  it("says which flag is wrong and what it takes", () => {
    assert.throws(() => parseLoadFlags(["--seconds=0"]), /--seconds=0: give a window of 0-60 seconds/);
    assert.throws(() => parseLoadFlags(["--clients=1,x"]), /--clients=1,x: give concurrencies of 1-256/);
    assert.throws(() => parseLoadFlags(["--peers=mcp-hub,ollama"]), /unknown peer\(s\) ollama; known: mcp-hub, supergateway, mcp-proxy/);
    assert.throws(() => parseLoadFlags(["--rounds=0"]), /--rounds=0: give 1-20 rounds/);
  });
});
