/**
 * The warm pool of per-call servers: containers started and initialized ahead of demand, each
 * handed to exactly one call. Its size follows the arrival rate (`DemandTracker`, `poolTarget`:
 * pure, tested without Docker); it never takes the last free slot, stops refilling after three
 * failed starts in a row, and empties when the server is idle, retired, or the launcher closes.
 */
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { lifecycleOf } from "../../registry/types.js";
import type { ContainerSlots } from "./container-slots.js";
import { concurrencyOf } from "./container-slots.js";

/** Sizing of the warm pool of a per-call server. */
export interface PoolSizing {
  /** Fewest warm containers while the server is in use (default 1). */
  min: number;
  /** Most warm containers of one server (default 4). */
  max: number;
  /** Window over which the arrival rate is measured, ms (default 30 s). */
  windowMs: number;
  /** After this long without a call the pool empties, ms (default 5 min). */
  idleMs: number;
}

export const DEFAULT_POOL_SIZING: PoolSizing = { min: 1, max: 4, windowMs: 30_000, idleMs: 300_000 };

/** Recent arrivals and start latencies of one server. */
export class DemandTracker {
  private arrivals: number[] = [];
  private startLatencyMs = 400;
  private lastArrival = -Infinity;

  constructor(private readonly sizing: PoolSizing) {}

  arrive(now: number): void {
    this.arrivals.push(now);
    this.lastArrival = now;
    this.trim(now);
  }

  /** Feeds an observed container start+initialize latency (exponential moving average). */
  observeStart(ms: number): void {
    this.startLatencyMs = this.startLatencyMs * 0.7 + ms * 0.3;
  }

  target(now: number): number {
    this.trim(now);
    return poolTarget({
      arrivalsInWindow: this.arrivals.length,
      windowMs: this.sizing.windowMs,
      startLatencyMs: this.startLatencyMs,
      msSinceLastArrival: now - this.lastArrival,
      sizing: this.sizing,
    });
  }

  private trim(now: number): void {
    const from = now - this.sizing.windowMs;
    let drop = 0;
    while (drop < this.arrivals.length && (this.arrivals[drop] as number) < from) drop += 1;
    if (drop > 0) this.arrivals.splice(0, drop);
  }
}

/**
 * Warm containers to keep: enough to cover the calls expected while one container starts
 * (Little's law: rate x start latency), plus one for bursts, within [min, max]; zero once the
 * server has been idle for `idleMs` (or was never used).
 */
export function poolTarget(input: {
  arrivalsInWindow: number;
  windowMs: number;
  startLatencyMs: number;
  msSinceLastArrival: number;
  sizing: PoolSizing;
}): number {
  const { sizing } = input;
  if (!(input.msSinceLastArrival <= sizing.idleMs)) return 0;
  const ratePerMs = input.arrivalsInWindow / input.windowMs;
  const expected = Math.ceil(ratePerMs * input.startLatencyMs) + 1;
  return Math.max(sizing.min, Math.min(sizing.max, expected));
}

export interface WarmPoolOptions<I> {
  /** `false` turns the pool off. */
  sizing: PoolSizing | false;
  slots: ContainerSlots;
  logger: Logger;
  /** Starts (and warms up) a container for the pool; it holds `release` until it is removed. */
  start(server: RegistryServer, release: () => void): Promise<I>;
  destroy(instance: I, why: string): void;
  /** True once the container has exited. */
  exited(instance: I): boolean;
}

interface PoolState<I> {
  server: RegistryServer;
  demand: DemandTracker;
  ready: I[];
  warming: number;
  failures: number;
  /** Temporary lower bound on the pool size (waitWarm). */
  floor: number;
  retired: boolean;
  /** Calls waiting for a container that is warming: each gets the next one ready, or undefined to start their own. */
  waiters: ((instance: I | undefined) => void)[];
}

/** Failed starts in a row after which a server's pool stops refilling. */
const MAX_FAILURES = 3;

export class WarmPool<I> {
  private readonly states = new Map<string, PoolState<I>>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: WarmPoolOptions<I>) {
    this.timer = setInterval(() => this.rebalance(), 2_000);
    this.timer.unref();
  }

  /** A warm container for a call, if one is ready; counts the call's arrival and tops the pool up either way. */
  take(server: RegistryServer): I | undefined {
    const state = this.state(server);
    state.retired = false;
    state.demand.arrive(Date.now());
    let instance: I | undefined;
    while ((instance = state.ready.shift()) !== undefined && this.options.exited(instance)) this.options.destroy(instance, "died while warm");
    this.refill(state);
    return instance;
  }

  /**
   * A warm container for a call: one that is ready, else the next one of those already warming
   * (started before this call, so it is ready sooner than a container started now would be) that
   * no earlier waiting call has claimed. Undefined when there is none (the caller starts its own:
   * in a burst, callers beyond what is warming start in parallel instead of queueing on the
   * pool's refills), or when `signal` aborts.
   */
  async takeOrWait(server: RegistryServer, signal?: AbortSignal): Promise<I | undefined> {
    const state = this.state(server);
    // Only a container that was warming before this call arrived, and is not promised to an earlier caller, is worth waiting for; one this arrival started is no sooner than the caller's own.
    const unclaimed = state.warming - state.waiters.length;
    const ready = this.take(server);
    if (ready !== undefined || unclaimed <= 0 || signal?.aborted) return ready;
    return new Promise<I | undefined>((resolve) => {
      const waiter = (instance: I | undefined): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve(instance);
      };
      const onAbort = (): void => {
        const i = state.waiters.indexOf(waiter);
        if (i >= 0) state.waiters.splice(i, 1);
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.waiters.push(waiter);
    });
  }

  /** Tops the pool of the server up to its target, as far as free slots allow. */
  fill(server: RegistryServer): void {
    this.refill(this.state(server));
  }

  /** Feeds a container start+initialize latency into the server's sizing. */
  observeStart(server: RegistryServer, ms: number): void {
    this.state(server).demand.observeStart(ms);
  }

  /** A container exited: if it was waiting in the pool, it is removed and replaced. */
  exited(server: RegistryServer, instance: I): void {
    const state = this.states.get(server.hash);
    const index = state ? state.ready.indexOf(instance) : -1;
    if (!state || index < 0) return;
    state.ready.splice(index, 1);
    this.options.destroy(instance, "died while warm");
    this.refill(state);
  }

  /** Empties the server's pool until its next call. */
  retire(server: RegistryServer): void {
    const state = this.states.get(server.hash);
    if (!state) return;
    state.retired = true;
    for (const instance of state.ready.splice(0)) this.options.destroy(instance, "retired");
    for (const waiter of state.waiters.splice(0)) waiter(undefined);
  }

  stats(server: RegistryServer): { warm: number; warming: number; poolTarget: number } {
    const state = this.states.get(server.hash);
    return state ? { warm: state.ready.length, warming: state.warming, poolTarget: this.target(state) } : { warm: 0, warming: 0, poolTarget: 0 };
  }

  /** Resolves once the pool of a per-call server holds at least `n` containers (tests, benchmarks). */
  async waitWarm(server: RegistryServer, n: number, timeout: number): Promise<void> {
    const state = this.state(server);
    const deadline = Date.now() + timeout;
    state.floor = n;
    try {
      while (state.ready.length < n) {
        if (Date.now() > deadline) throw new Error(`warm pool of ${server.prefix} did not reach ${n} within ${timeout} ms`);
        this.refill(state);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      state.floor = 0;
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const state of this.states.values()) {
      for (const instance of state.ready.splice(0)) this.options.destroy(instance, "launcher closed");
      for (const waiter of state.waiters.splice(0)) waiter(undefined);
    }
  }

  private state(server: RegistryServer): PoolState<I> {
    let state = this.states.get(server.hash);
    if (!state) {
      state = { server, demand: new DemandTracker(this.options.sizing || DEFAULT_POOL_SIZING), ready: [], warming: 0, failures: 0, floor: 0, retired: false, waiters: [] };
      this.states.set(server.hash, state);
    }
    return state;
  }

  private target(state: PoolState<I>): number {
    if (!this.options.sizing || state.retired || this.closed || lifecycleOf(state.server) !== "per-call" || state.failures >= MAX_FAILURES) return 0;
    return Math.max(state.floor, state.demand.target(Date.now()));
  }

  private refill(state: PoolState<I>): void {
    const target = this.target(state);
    while (state.ready.length + state.warming < target && state.warming < Math.max(2, target)) {
      // Leave room for callers: never take the last slot for a warm container.
      const release = this.options.slots.tryAcquire(state.server.hash, concurrencyOf(state.server), 1);
      if (!release) return;
      state.warming += 1;
      this.options
        .start(state.server, release)
        .then((instance) => {
          state.warming -= 1;
          state.failures = 0;
          const waiter = this.options.exited(instance) ? undefined : state.waiters.shift();
          if (waiter) {
            waiter(instance);
            this.refill(state);
            return;
          }
          if (this.target(state) === 0 || this.options.exited(instance)) {
            this.options.destroy(instance, "pool not needed");
            this.releaseWaiters(state);
            return;
          }
          state.ready.push(instance);
          this.refill(state);
        })
        .catch((error: unknown) => {
          state.warming -= 1;
          this.releaseWaiters(state);
          if (this.closed || state.retired) return;
          state.failures += 1;
          this.options.logger.warn({ server: state.server.prefix, err: (error as Error).message }, "warm pool start failed");
        });
    }
  }

  /** Waiters beyond what is still warming start their own containers. */
  private releaseWaiters(state: PoolState<I>): void {
    while (state.waiters.length > state.warming) state.waiters.pop()?.(undefined);
  }

  private rebalance(): void {
    for (const state of this.states.values()) {
      const target = this.target(state);
      while (state.ready.length > target) this.options.destroy(state.ready.pop() as I, "pool shrink");
      if (state.failures > 0 && state.failures < MAX_FAILURES) this.refill(state);
    }
  }
}
