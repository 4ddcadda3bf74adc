/**
 * The Lease every launcher hands out, around its own `run` and `release`: a released lease runs
 * nothing more, release happens once, and a single-use lease (per-call) runs one request at most.
 */
import { LaunchError } from "./errors.js";
import type { Lease, LeaseTimings, UpstreamClient } from "./launcher.js";

export interface GuardedLeaseParts {
  client: UpstreamClient;
  containerId: string | undefined;
  timings: LeaseTimings;
  run<T>(fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  release(): void;
  /** For a lease that serves exactly one request: what a second one is told. */
  singleUse?: string;
}

export function guardedLease(parts: GuardedLeaseParts): Lease {
  let released = false;
  let runs = 0;
  return {
    client: parts.client,
    containerId: parts.containerId,
    timings: parts.timings,
    run<T>(fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (released) return Promise.reject(new LaunchError("ABORTED", "the lease was already released", "Acquire a new lease for each call."));
      runs += 1;
      if (parts.singleUse !== undefined && runs > 1) return Promise.reject(new LaunchError("ABORTED", parts.singleUse, "Acquire a new lease for each call."));
      return parts.run(fn, signal);
    },
    release(): void {
      if (released) return;
      released = true;
      parts.release();
    },
  };
}
