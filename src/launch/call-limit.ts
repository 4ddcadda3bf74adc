/**
 * The time limit and the caller's cancellation of one request, as every launcher applies them:
 * whichever comes first aborts `signal` (the SDK then tells the server `notifications/cancelled`),
 * runs `onStop` (a per-call launcher kills the container), and makes `stopped` reject with the
 * launcher's LaunchError for it.
 */
import type { LaunchError } from "./errors.js";

export type StopReason = "timeout" | "aborted";

export interface CallLimitOptions {
  limitMs: number;
  /** The caller's signal (client cancellation). */
  signal?: AbortSignal | undefined;
  /** The error a stopped call rejects with, worded for the launcher. */
  error(why: StopReason): LaunchError;
  onStop?(why: StopReason): void;
}

export interface CallLimit {
  /** Aborted when the call is stopped: pass it to the request. */
  readonly signal: AbortSignal;
  /** Never resolves; rejects with the stop error. Race it against the request. */
  readonly stopped: Promise<never>;
  /** Why the call was stopped, once it was. */
  readonly reason: StopReason | undefined;
  /** The error `stopped` rejected with, once it did. */
  readonly error: LaunchError | undefined;
  /** Clears the timer and the listener; call in `finally`. */
  dispose(): void;
}

export function callLimit(options: CallLimitOptions): CallLimit {
  const controller = new AbortController();
  let reject: (error: Error) => void = () => undefined;
  const stopped = new Promise<never>((_, r) => {
    reject = r;
  });
  stopped.catch(() => undefined);
  const limit: { reason: StopReason | undefined; error: LaunchError | undefined } = { reason: undefined, error: undefined };
  const stop = (why: StopReason): void => {
    if (limit.reason) return;
    limit.reason = why;
    limit.error = options.error(why);
    controller.abort(why);
    options.onStop?.(why);
    reject(limit.error);
  };
  const timer = setTimeout(() => stop("timeout"), options.limitMs);
  const onAbort = (): void => stop("aborted");
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    stopped,
    get reason() {
      return limit.reason;
    },
    get error() {
      return limit.error;
    },
    dispose() {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}
