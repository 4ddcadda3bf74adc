/**
 * The Octokit used by propose: the `octokit` package's client, which bundles the retry and
 * throttling plugins. Rate limits are waited out (a few times) instead of failing the run.
 */
import { Octokit } from "octokit";

export interface GithubClientOptions {
  token?: string;
  /** API base URL (GitHub Enterprise, or a local fake in tests). */
  baseUrl?: string;
  /** Where rate-limit warnings go (never the token). */
  warn?: (message: string) => void;
  /** Retries of 5xx/network errors (plugin-retry); default 3. */
  retries?: number;
  /**
   * Spacing of write requests and waiting out rate limits (plugin-throttling), as GitHub asks of
   * API clients; default on. Off only where the API is a local fake that has no limits (tests).
   */
  throttle?: boolean;
}

export function githubClient(options: GithubClientOptions = {}): Octokit {
  const warn = options.warn ?? (() => {});
  const onLimit = (kind: string) => (retryAfter: number, opts: { method: string; url: string; request: { retryCount: number } }) => {
    warn(`GitHub ${kind} rate limit on ${opts.method} ${opts.url}; retrying after ${retryAfter}s`);
    return opts.request.retryCount < 2;
  };
  return new Octokit({
    ...(options.token ? { auth: options.token } : {}),
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : {}),
    userAgent: "mcp-router-propose",
    retry: { retries: options.retries ?? 3 },
    throttle: { enabled: options.throttle ?? true, onRateLimit: onLimit("primary"), onSecondaryRateLimit: onLimit("secondary") },
    log: { debug: () => {}, info: () => {}, warn, error: warn },
  });
}
