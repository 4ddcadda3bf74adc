/**
 * Prometheus metrics of the gateway (prom-client, its own Registry): calls by server, tool and
 * outcome; latency split into queue, start and call time; container and warm-pool figures read
 * from the launcher's `stats()` at scrape time; registry reloads and the applied revision; and
 * the process metrics of `collectDefaultMetrics`. Served as `GET /metrics` by the HTTP gateway.
 *
 * The call path only touches cached label children (no label objects built per call).
 */
import type { Counter as CounterT, Histogram as HistogramT } from "prom-client";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { LauncherStats } from "../launch/launcher.js";
import type { ServerCondition, SyncStatus } from "../sync/reconciler.js";

export const METRICS_PREFIX = "mcp_router_";

/**
 * How a call ended: `ok`; `tool_error` (the tool answered with `isError: true`); `cancelled` (the
 * client cancelled it or went away); `timeout` (the server's time limit); `error` (anything else:
 * launch failures such as a missing secret, crashes, JSON-RPC errors of the server).
 */
export type CallOutcome = "ok" | "tool_error" | "error" | "cancelled" | "timeout";
export const CALL_OUTCOMES: readonly CallOutcome[] = ["ok", "tool_error", "error", "cancelled", "timeout"];

/** The upstream requests the gateway counts: `tools/call`, `resources/read`, `prompts/get`, `completion/complete`. */
/** How a principal's request ended: a call's outcome, or refused before it ran (by the access policy, or a rate limit). */
export type PrincipalOutcome = CallOutcome | "denied" | "rate_limited";

export type CallMethod = "tools/call" | "resources/read" | "prompts/get" | "completion/complete" | "tasks/get" | "tasks/update" | "tasks/cancel";

/** Seconds, from 1 ms to 5 min: covers a warm call (ms), a cold container start (s) and long tools (min). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** What `observeReload` needs of sync's status (structurally sync's `SyncStatus`). */
/** What the reload metrics read of the reconciler's status. */
export type ReloadStatus = Pick<SyncStatus, "lastAppliedRevision" | "lastAppliedAt" | "failures"> & { servers: readonly Pick<ServerCondition, "reason" | "stale">[] };

export interface GatewayMetricsOptions {
  /** Container and pool figures, read at scrape time. */
  launcherStats?: () => LauncherStats;
  /** Connected client sessions, read at scrape time. */
  sessions?: () => number;
  /** Process metrics (CPU, memory, event loop lag, GC, handles); default true. */
  processMetrics?: boolean;
}

/** Label children of one server, cached: per tool and method, one counter child per outcome. */
interface ServerSeries {
  queue: ReturnType<HistogramT<"server">["labels"]>;
  start: ReturnType<HistogramT<"server">["labels"]>;
  call: ReturnType<HistogramT<"server">["labels"]>;
  calls: Map<string, ReturnType<CounterT<string>["labels"]>[]>;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #calls: CounterT<"server" | "method" | "tool" | "outcome">;
  readonly #queue: HistogramT<"server">;
  readonly #start: HistogramT<"server">;
  readonly #call: HistogramT<"server">;
  readonly #reloads: CounterT<"outcome">;
  readonly #principals: CounterT<"principal" | "outcome">;
  readonly #principalSeries = new Map<string, Map<PrincipalOutcome, ReturnType<CounterT<string>["labels"]>>>();
  readonly #revision: Gauge<"revision">;
  readonly #servers: Gauge<"reason">;
  readonly #series = new Map<string, ServerSeries>();
  #failures = 0;
  #appliedAt: string | undefined;

  constructor(options: GatewayMetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });
    this.#calls = new Counter({
      name: `${p}calls_total`,
      help: "Upstream requests by server, method (tools/call, resources/read, prompts/get, completion/complete), tool (or prompt) and outcome (ok, tool_error, error, cancelled, timeout)",
      labelNames: ["server", "method", "tool", "outcome"],
      registers,
    });
    const histogram = (name: string, help: string) => new Histogram({ name: `${p}${name}`, help, labelNames: ["server"], buckets: LATENCY_BUCKETS, registers });
    this.#queue = histogram("call_queue_seconds", "Time a call waited for a container slot");
    this.#start = histogram("call_start_seconds", "Time spent starting and initializing a container for a call (only calls that started one: not warm, not reused)");
    this.#call = histogram("call_seconds", "Time of the request itself once a container was leased");
    this.#principals = new Counter({
      name: `${p}principal_calls_total`,
      help: "Calls (tools/call, resources/read, prompts/get, completion/complete) by principal (key:<key id>, oauth:<subject>, stdio, anonymous) and outcome: those of calls_total, plus denied (the access policy) and rate_limited",
      labelNames: ["principal", "outcome"],
      registers,
    });
    this.#reloads = new Counter({
      name: `${p}reloads_total`,
      help: "Registry reconciles that reached a new revision or failed: applied, partial (applied, some server files kept their last good version), failed (nothing applied)",
      labelNames: ["outcome"],
      registers,
    });
    this.#revision = new Gauge({ name: `${p}applied_revision_info`, help: "The registry revision serving now (value 1)", labelNames: ["revision"], registers });
    this.#servers = new Gauge({ name: `${p}registry_servers`, help: "Registry servers by condition reason (Applied, ValidationFailed, Preparing, PrepareFailed, Disabled)", labelNames: ["reason"], registers });
    if (options.sessions) {
      const sessions = options.sessions;
      new Gauge({ name: `${p}sessions`, help: "Connected client sessions", registers, collect() { this.set(sessions()); } });
    }
    if (options.launcherStats) this.#launcherMetrics(options.launcherStats);
  }

  /** Counts one upstream request and observes its latencies (ms; `startMs` only when a container was started for it). */
  observeCall(server: string, method: CallMethod, tool: string, outcome: CallOutcome, timings: { queueMs?: number; startMs?: number; callMs?: number }): void {
    const series = this.#seriesOf(server);
    const key = method === "tools/call" ? tool : `${method}\u0000${tool}`;
    let children = series.calls.get(key);
    if (!children) {
      children = CALL_OUTCOMES.map((o) => this.#calls.labels({ server, method, tool, outcome: o }));
      // Every outcome is exported from the first call on (0 until it happens), so rate() and ratios work.
      for (const child of children) child.inc(0);
      series.calls.set(key, children);
    }
    children[CALL_OUTCOMES.indexOf(outcome)]?.inc();
    if (timings.queueMs !== undefined) series.queue.observe(timings.queueMs / 1000);
    if (timings.startMs !== undefined && timings.startMs > 0) series.start.observe(timings.startMs / 1000);
    if (timings.callMs !== undefined) series.call.observe(timings.callMs / 1000);
  }

  /** Counts one request of a principal by how it ended (label children cached per principal). */
  observePrincipal(principal: string, outcome: PrincipalOutcome): void {
    let series = this.#principalSeries.get(principal);
    if (!series) {
      series = new Map();
      this.#principalSeries.set(principal, series);
    }
    let child = series.get(outcome);
    if (!child) {
      child = this.#principals.labels({ principal, outcome });
      series.set(outcome, child);
    }
    child.inc();
  }

  /** Feed sync's status after every reconcile (its `onStatus`). */
  observeReload(status: ReloadStatus): void {
    const failedMore = status.failures > this.#failures;
    const applied = status.lastAppliedAt !== undefined && status.lastAppliedAt !== this.#appliedAt;
    this.#failures = status.failures;
    this.#appliedAt = status.lastAppliedAt;
    if (applied) this.#reloads.inc({ outcome: failedMore ? "partial" : "applied" });
    else if (failedMore) this.#reloads.inc({ outcome: "failed" });
    if (status.lastAppliedRevision !== undefined) {
      this.#revision.reset();
      this.#revision.set({ revision: status.lastAppliedRevision }, 1);
    }
    this.#servers.reset();
    const counts = new Map<string, number>();
    for (const s of status.servers) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
    for (const [reason, n] of counts) this.#servers.set({ reason }, n);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  #seriesOf(server: string): ServerSeries {
    let series = this.#series.get(server);
    if (!series) {
      series = { queue: this.#queue.labels({ server }), start: this.#start.labels({ server }), call: this.#call.labels({ server }), calls: new Map() };
      this.#series.set(server, series);
    }
    return series;
  }

  #launcherMetrics(stats: () => LauncherStats): void {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    // One stats() per scrape, shared by every collect callback of that scrape.
    let cached: { at: number; value: LauncherStats } | undefined;
    const read = (): LauncherStats => {
      const now = performance.now();
      if (!cached || now - cached.at > 100) cached = { at: now, value: stats() };
      return cached.value;
    };
    const total = (name: string, help: string, pick: (s: LauncherStats) => number) => {
      let seen = 0;
      new Counter({
        name: `${p}${name}`,
        help,
        registers,
        collect() {
          const value = pick(read());
          if (value > seen) this.inc(value - seen);
          seen = Math.max(seen, value);
        },
      });
    };
    const gauge = (name: string, help: string, pick: (s: LauncherStats) => number) =>
      new Gauge({ name: `${p}${name}`, help, registers, collect() { this.set(pick(read())); } });
    const perServer = (name: string, help: string, pick: (s: LauncherStats["servers"][number]) => number) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        labelNames: ["server"],
        registers,
        collect() {
          this.reset();
          // Several versions of one server can exist while an old one drains: summed by prefix.
          const sums = new Map<string, number>();
          for (const s of read().servers) sums.set(s.prefix, (sums.get(s.prefix) ?? 0) + pick(s));
          for (const [server, value] of sums) this.set({ server }, value);
        },
      });
    gauge("containers", "Containers of this gateway that exist now (starting, warm, in use or being removed)", (s) => s.containers);
    gauge("containers_max", "Most containers this gateway runs at once", (s) => s.maxContainers);
    gauge("queued_calls", "Calls waiting for a container slot", (s) => s.queued);
    total("containers_started_total", "Containers started", (s) => s.started);
    total("pool_hits_total", "Leases served from the warm pool", (s) => s.poolHits);
    total("pool_misses_total", "Per-call leases that started a container on the caller's path", (s) => s.poolMisses);
    perServer("containers_running", "Containers running per server", (s) => s.running);
    perServer("pool_warm", "Warm (started, initialized, unused) containers per server", (s) => s.warm);
    perServer("pool_warming", "Containers being started for the warm pool per server", (s) => s.warming);
    perServer("pool_target", "Warm pool size the launcher aims for per server", (s) => s.poolTarget);
  }
}
