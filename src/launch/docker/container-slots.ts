import type { RegistryServer } from "../../registry/types.js";
import { LaunchError } from "../errors.js";

interface Waiter {
  key: string;
  limit: number;
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

/**
 * Counts containers globally and per key (server version), with a bounded FIFO wait queue.
 * A slot is held from container creation until its removal has completed.
 */
export class ContainerSlots {
  private total = 0;
  private readonly perKey = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  private closed = false;

  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get inUse(): number {
    return this.total;
  }

  get queued(): number {
    return this.queue.length;
  }

  count(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  /** A slot now, or undefined; never queues (for background refills, which yield to waiting callers). */
  tryAcquire(key: string, limit: number, reserve = 0): (() => void) | undefined {
    if (this.closed || this.queue.length > 0) return undefined;
    if (this.total + reserve >= this.max || this.count(key) >= limit) return undefined;
    return this.take(key);
  }

  /** A slot, waiting in line when none is free; rejects when the line is full or on abort. */
  acquire(key: string, limit: number, what: string, signal?: AbortSignal): Promise<() => void> {
    if (this.closed) return Promise.reject(closedError());
    // Waiters ahead in line are only ever blocked by their own key's limit while the global cap
    // has room, so a caller may pass them unless one waits for the same key.
    if (this.total < this.max && this.count(key) < limit && !this.queue.some((w) => w.key === key)) {
      return Promise.resolve(this.take(key));
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new LaunchError(
          "SATURATED",
          `no container slot for ${what}: ${this.total}/${this.max} containers running and ${this.queue.length} calls already waiting`,
          "Retry later, or raise the launcher's container cap (--max-containers) or the server's limits.concurrency.",
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(abortedError(what));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(abortedError(what));
      };
      const waiter: Waiter = {
        key,
        limit,
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(closedError());
    }
  }

  private take(key: string): () => void {
    this.total += 1;
    this.perKey.set(key, this.count(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const n = this.count(key) - 1;
      if (n <= 0) this.perKey.delete(key);
      else this.perKey.set(key, n);
      this.drain();
    };
  }

  private drain(): void {
    for (let i = 0; i < this.queue.length && this.total < this.max; ) {
      const waiter = this.queue[i] as Waiter;
      if (this.count(waiter.key) < waiter.limit) {
        this.queue.splice(i, 1);
        waiter.cleanup();
        waiter.resolve(this.take(waiter.key));
      } else {
        i += 1;
      }
    }
  }
}

/** How many containers of one server version may run at once (`router.limits.concurrency`). */
export function concurrencyOf(server: RegistryServer): number {
  return server.entry.router?.limits?.concurrency ?? Number.POSITIVE_INFINITY;
}

function abortedError(what: string): LaunchError {
  return new LaunchError("ABORTED", `the call to ${what} was cancelled while waiting for a container`, "Nothing to do: the client cancelled the request.");
}

function closedError(): LaunchError {
  return new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
}
