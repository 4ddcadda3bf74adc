/**
 * Metrics at a glance, drawn from the daemon's own Prometheus registry (the figures `/metrics`
 * exports, read in process): per server, calls by outcome and p50/p95 call latency (from the
 * `call_seconds` histogram's buckets, as Prometheus' histogram_quantile would estimate them);
 * warm-pool hits and misses; and calls per minute over the last minutes, from counters sampled
 * every `sampleMs` and kept in a ring (the registry has totals, not history).
 */
import type { GatewayMetrics } from "../observe/metrics.js";
import { METRICS_PREFIX } from "../observe/metrics.js";

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}
interface Metric {
  name: string;
  values: MetricValue[];
}

export interface ServerFigures {
  server: string;
  calls: number;
  ok: number;
  toolErrors: number;
  /** Gateway errors, timeouts and cancellations. */
  failed: number;
  p50Ms?: number;
  p95Ms?: number;
}

export interface MetricsView {
  servers: ServerFigures[];
  pool?: { hits: number; misses: number };
  /** Calls per minute across every server, oldest first, one point per sample. */
  perMinute: { at: string; callsPerMinute: number }[];
  sampleSeconds: number;
}

export class MetricsSampler {
  readonly #samples: { at: number; total: number }[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly sampleMs = 10_000,
    private readonly keep = 60,
    private readonly now: () => number = Date.now,
  ) {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), sampleMs);
    this.#timer.unref();
  }

  async sample(): Promise<void> {
    const metrics = (await this.metrics.registry.getMetricsAsJSON()) as unknown as Metric[];
    const total = callValues(metrics).reduce((sum, v) => sum + v.value, 0);
    this.#samples.push({ at: this.now(), total });
    if (this.#samples.length > this.keep + 1) this.#samples.shift();
  }

  async view(): Promise<MetricsView> {
    const metrics = (await this.metrics.registry.getMetricsAsJSON()) as unknown as Metric[];
    const perMinute: MetricsView["perMinute"] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const a = this.#samples[i - 1]!;
      const b = this.#samples[i]!;
      const minutes = (b.at - a.at) / 60_000;
      if (minutes > 0) perMinute.push({ at: new Date(b.at).toISOString(), callsPerMinute: Math.max(0, b.total - a.total) / minutes });
    }
    const pool = (name: string) => metrics.find((m) => m.name === `${METRICS_PREFIX}${name}`)?.values[0]?.value;
    const hits = pool("pool_hits_total");
    const misses = pool("pool_misses_total");
    return { servers: serverFigures(metrics), ...(hits !== undefined && misses !== undefined ? { pool: { hits, misses } } : {}), perMinute, sampleSeconds: this.sampleMs / 1000 };
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

function callValues(metrics: readonly Metric[]): MetricValue[] {
  return metrics.find((m) => m.name === `${METRICS_PREFIX}calls_total`)?.values ?? [];
}

export function serverFigures(metrics: readonly Metric[]): ServerFigures[] {
  const byServer = new Map<string, ServerFigures>();
  const of = (server: string) => {
    let f = byServer.get(server);
    if (!f) byServer.set(server, (f = { server, calls: 0, ok: 0, toolErrors: 0, failed: 0 }));
    return f;
  };
  for (const v of callValues(metrics)) {
    const f = of(String(v.labels.server));
    f.calls += v.value;
    if (v.labels.outcome === "ok") f.ok += v.value;
    else if (v.labels.outcome === "tool_error") f.toolErrors += v.value;
    else f.failed += v.value;
  }
  const histogram = metrics.find((m) => m.name === `${METRICS_PREFIX}call_seconds`);
  const buckets = new Map<string, { le: number; count: number }[]>();
  for (const v of histogram?.values ?? []) {
    if (!v.metricName?.endsWith("_bucket")) continue;
    const server = String(v.labels.server);
    const le = v.labels.le === "+Inf" ? Infinity : Number(v.labels.le);
    buckets.set(server, [...(buckets.get(server) ?? []), { le, count: v.value }]);
  }
  for (const [server, list] of buckets) {
    const f = of(server);
    const p50 = quantile(list, 0.5);
    const p95 = quantile(list, 0.95);
    if (p50 !== undefined) f.p50Ms = p50 * 1000;
    if (p95 !== undefined) f.p95Ms = p95 * 1000;
  }
  return [...byServer.values()].sort((a, b) => a.server.localeCompare(b.server));
}

/** histogram_quantile: linear interpolation inside the bucket the rank falls in (cumulative counts). */
export function quantile(buckets: readonly { le: number; count: number }[], q: number): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lower; // the highest finite bound, as Prometheus answers
      const inBucket = b.count - below;
      return inBucket === 0 ? b.le : lower + (b.le - lower) * ((rank - below) / inBucket);
    }
    lower = b.le;
    below = b.count;
  }
  return lower;
}
