/**
 * The load bench's per-call rows (`npm run bench -- load --per-call`; needs a Docker engine):
 * mcp-router serving a per-call server (server-everything, a fresh container for every call, the
 * warm pool on as `serve` has it) through `/mcp`, loaded by SDK clients:
 *  - sequential back-to-back calls (the next as soon as the last returns): p50/p95, target p95 <= 50 ms;
 *  - a steady rate (open loop) of `rate` calls/s: p50/p99;
 *  - a burst of 50 concurrent calls: p50/p99 and how long the burst took;
 * each with its pool hits and misses and the mean queue wait (from the daemon's own metrics), and
 * container starts per second during the burst next to the engine's raw create+start rate
 * (`node -e 0` containers, created and started through the Engine API at the same concurrency as
 * the launcher's container slots, measured in the same run): target >= 0.9x.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { pino } from "pino";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { METRICS_PREFIX } from "../../src/observe/metrics.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { ensureTestImages, testDataDir } from "../../test/support/docker.js";
import { npmPackage, testServer, writeRegistry } from "../../test/support/servers.js";
import { percentile, type BenchRow } from "../bench-row.js";
import { connectCallers, emptySample, steadyRate, timed, type Caller, type Sample } from "./drive.js";

const OWNER = "bench-load";
const PREFIX = "everything";
const SEQUENTIAL_CALLS = 40;
const BURST = 50;
/** Per-call calls per second in the steady phase: well inside what the pool refills on 2 cores. */
const STEADY_RATE = 2;
const P95_TARGET_MS = 50;
const RAW_RATE_RATIO = 0.9;

interface PoolCounters {
  hits: number;
  misses: number;
  started: number;
  queueSeconds: number;
  queued: number;
}

export async function benchPerCall(options: { seconds: number; log: (line: string) => void }): Promise<BenchRow[]> {
  const { log } = options;
  const docker = new Docker();
  const images = await ensureTestImages();
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-bench-per-call-"));
  const server = testServer(PREFIX, npmPackage("@modelcontextprotocol/server-everything"));
  await writeRegistry(join(dir, "registry"), [server]);
  const launcher = new DockerLauncher({ docker, logger: pino({ level: "silent" }), secrets: staticSecretSource({}), dataDir: testDataDir(), owner: OWNER, baseImages: { node: images.nodeBase } });
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: undefined },
    launcher,
  });
  const callers: Caller[] = [];
  try {
    await daemon.sync.started;
    const notApplied = daemon.status().servers.filter((s) => s.reason !== "Applied");
    if (notApplied.length) throw new Error(`per-call: servers not applied: ${JSON.stringify(notApplied)}`);
    const metricsUrl = new URL("/metrics", daemon.url);
    const counters = async (): Promise<PoolCounters> => {
      const stats = launcher.stats();
      const text = await (await fetch(metricsUrl)).text();
      return { hits: stats.poolHits, misses: stats.poolMisses, started: stats.started, queueSeconds: metricValue(text, "call_queue_seconds_sum"), queued: metricValue(text, "call_queue_seconds_count") };
    };
    callers.push(...(await connectCallers({ url: new URL("/mcp", daemon.url), transport: "streamable-http", tool: `${PREFIX}__echo` }, BURST)));
    const [first] = callers;
    if (!first) throw new Error("per-call: no client connected");
    log("per-call: warming the pool...");
    for (let i = 0; i < 3; i++) await first.call();
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const rows: BenchRow[] = [];
    const phase = async (label: string, run: () => Promise<Sample>): Promise<{ sample: Sample; delta: PoolCounters }> => {
      log(`per-call: ${label}...`);
      const before = await counters();
      const sample = await run();
      const after = await counters();
      const delta = { hits: after.hits - before.hits, misses: after.misses - before.misses, started: after.started - before.started, queueSeconds: after.queueSeconds - before.queueSeconds, queued: after.queued - before.queued };
      const queueMs = delta.queued > 0 ? (delta.queueSeconds / delta.queued) * 1000 : 0;
      rows.push({ name: `per-call ${label}: pool hits (misses), mean queue wait ${queueMs.toFixed(1)} ms`, value: delta.hits, unit: `hits (${delta.misses} misses)` });
      if (sample.errors) rows.push({ name: `per-call ${label}: failed calls (${sample.firstError ?? ""})`, value: sample.errors, unit: "calls", target: "0", ok: false });
      return { sample, delta };
    };

    const sequential = await phase(`sequential back to back, ${SEQUENTIAL_CALLS} calls`, async () => {
      const s = emptySample();
      const t0 = performance.now();
      for (let i = 0; i < SEQUENTIAL_CALLS; i++) await timed(first, s);
      s.seconds = (performance.now() - t0) / 1000;
      return s;
    });
    const p95 = percentile(sequential.sample.latencies, 95);
    rows.push({ name: "per-call sequential back to back, p50", value: percentile(sequential.sample.latencies, 50), unit: "ms" });
    rows.push({ name: "per-call sequential back to back, p95 (warm)", value: p95, unit: "ms", target: `<= ${P95_TARGET_MS} ms`, ok: p95 <= P95_TARGET_MS });

    const steady = await phase(`steady ${STEADY_RATE} calls/s for ${options.seconds * 3} s`, () => steadyRate(callers, STEADY_RATE, options.seconds * 3000));
    rows.push({ name: `per-call steady ${STEADY_RATE} calls/s, p50`, value: percentile(steady.sample.latencies, 50), unit: "ms" });
    rows.push({ name: `per-call steady ${STEADY_RATE} calls/s, p99`, value: percentile(steady.sample.latencies, 99), unit: "ms" });

    const burst = await phase(`burst of ${BURST} concurrent calls`, async () => {
      const s = emptySample();
      const t0 = performance.now();
      await Promise.all(callers.slice(0, BURST).map((c) => timed(c, s, t0)));
      s.seconds = (performance.now() - t0) / 1000;
      return s;
    });
    rows.push({ name: `per-call burst of ${BURST}, p50`, value: percentile(burst.sample.latencies, 50), unit: "ms" });
    rows.push({ name: `per-call burst of ${BURST}, p99 (all done in ${burst.sample.seconds.toFixed(1)} s)`, value: percentile(burst.sample.latencies, 99), unit: "ms" });

    const concurrency = launcher.stats().maxContainers;
    log(`per-call: the engine's raw create+start rate, ${BURST} containers at concurrency ${concurrency}...`);
    const raw = await rawCreateStartRate(docker, images.nodeBase, BURST, concurrency);
    const startsPerSecond = burst.delta.started / burst.sample.seconds;
    rows.push({
      name: `per-call container starts/s during the burst (${burst.delta.started} started)`,
      value: startsPerSecond,
      unit: "starts/s",
      baseline: { name: `engine create+start, concurrency ${concurrency}`, value: raw },
      ratio: startsPerSecond / raw,
      target: `ratio >= ${RAW_RATE_RATIO}`,
      ok: startsPerSecond / raw >= RAW_RATE_RATIO,
    });
    return rows;
  } finally {
    await Promise.all(callers.map((c) => c.close().catch(() => undefined)));
    await daemon.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Containers of `node -e 0` created and started per second through the Engine API, `concurrency` at a time; removed afterwards, off the clock. */
async function rawCreateStartRate(docker: Docker, image: string, total: number, concurrency: number): Promise<number> {
  const created: Docker.Container[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        const container = await docker.createContainer({ Image: image, Cmd: ["node", "-e", "0"], Labels: { "dev.mcp-router.bench": OWNER } });
        created.push(container);
        await container.start();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(created.map((c) => c.remove({ force: true }).catch(() => undefined)));
  return total / seconds;
}

/** The sum of every series of a metric in Prometheus text (0 when absent). */
function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${METRICS_PREFIX}${name}`)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
