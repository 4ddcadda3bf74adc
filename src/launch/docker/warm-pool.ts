/** Sizing of the warm pool of a per-call server: pure, so it can be tested without Docker. */
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
