/**
 * Token buckets for the access policy's `limits`: one per rule and principal (and server, or
 * tool, as the rule's `per` says), refilled continuously at the rule's rate up to its burst. Keyed
 * on the principal, never the session, so reconnecting does not refill anything; a rule that a
 * reload leaves unchanged keeps its buckets (they are keyed on its text).
 *
 * A call takes one token from every bucket that counts it, or none: refused by one rule, it costs
 * the others nothing.
 */
import type { CompiledLimit } from "./access-policy.js";

export interface RateRefusal {
  limit: CompiledLimit;
  /** How long until the emptiest bucket holds a token again. */
  retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  /** `now()` of the last refill. */
  at: number;
  readonly limit: CompiledLimit;
}

/** Past this many buckets, full ones (which hold no information) are dropped. */
const SWEEP_AT = 10_000;

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token for one call of `name` on `prefix` by `principalId`; a refusal says which rule and for how long. */
  take(principalId: string, limits: readonly CompiledLimit[], prefix: string, name: string): RateRefusal | undefined {
    if (limits.length === 0) return undefined;
    const now = this.#now();
    const buckets: Bucket[] = [];
    let refusal: RateRefusal | undefined;
    for (const limit of limits) {
      const key = `${limit.id}\n${principalId}\n${limit.per === "principal" ? "" : prefix}\n${limit.per === "tool" ? name : ""}`;
      let bucket = this.#buckets.get(key);
      if (!bucket) {
        if (this.#buckets.size >= SWEEP_AT) this.#sweep(now);
        bucket = { tokens: limit.burst, at: now, limit };
        this.#buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(limit.burst, bucket.tokens + (now - bucket.at) * limit.perMs);
        bucket.at = now;
      }
      if (bucket.tokens < 1) {
        const retryAfterMs = Math.ceil((1 - bucket.tokens) / limit.perMs);
        if (!refusal || retryAfterMs > refusal.retryAfterMs) refusal = { limit, retryAfterMs };
      }
      buckets.push(bucket);
    }
    if (refusal) return refusal;
    for (const bucket of buckets) bucket.tokens -= 1;
    return undefined;
  }

  /** Drops buckets that have refilled completely: a new one starts full anyway. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * bucket.limit.perMs >= bucket.limit.burst) this.#buckets.delete(key);
    }
  }
}
