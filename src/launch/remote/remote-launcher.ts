/**
 * Remote-only servers (`remotes[]`, no `packages`): proxied over Streamable HTTP or SSE with the
 * same passthrough as local ones, in the era the upstream speaks.
 *
 * The era is probed once per server version (at prepare, else at the first acquire) and the
 * verdict kept in memory by the version's hash (modern-upstream.ts). A 2026-07-28 upstream is
 * stateless: each lease is an SDK v2 client connected with the kept DiscoverResult (no probe, no
 * initialize, no session to open or close), and its `input_required` rounds pass through.
 *
 * A 2025 upstream (and every SSE one) gets one upstream MCP session (upstream-session) per (server
 * version, client session), kept by the session pool: opened on first use and kept for that
 * session's later calls; closed when the client session ends, when the version is retired, after
 * an idle time, and on close. If the upstream restarted (connection refused, or its session
 * rejected as unknown), the session is reopened and the request sent once more, but only when it
 * cannot have run upstream.
 */
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { callLimit } from "../call-limit.js";
import type { ResourceDefaults } from "../limits.js";
import { DEFAULT_RESOURCES, timeoutMs } from "../limits.js";
import { LaunchError } from "../errors.js";
import { guardedLease } from "../guarded-lease.js";
import type { AcquireOptions, KnownEra, Launcher, LauncherStats, Lease, ServerStats, UpstreamClient } from "../launcher.js";
import { UNSUPPORTED_PROTOCOL_VERSION } from "../launcher.js";
import { legacyUpstreamClient } from "../legacy-upstream-client.js";
import type { SecretSource } from "../../secrets/secret-source.js";
import { SessionPool } from "../session-pool.js";
import type { ModernUpstreamClient } from "../modern-upstream-client.js";
import type { EraVerdict } from "./modern-upstream.js";
import { connectModern, eraVerdict } from "./modern-upstream.js";
import type { RemoteFailure, RemoteTarget } from "./remote-target.js";
import { classifyFailure, describeFailure, remoteTarget } from "./remote-target.js";
import type { UpstreamOptions, UpstreamSessionEvents } from "./upstream-session.js";
import { UpstreamSession } from "./upstream-session.js";

export interface RemoteLauncherOptions {
  logger: Logger;
  /** Where header and URL variable values come from. */
  secrets: SecretSource;
  /** `timeoutSeconds` applies when `router.limits` has none. */
  defaults?: ResourceDefaults;
  /** An upstream session idle this long is closed (default 10 min). */
  sessionIdleMs?: number;
  /** Bound on connecting and MCP initialize (default 30 s). */
  connectTimeoutMs?: number;
  clientInfo?: { name: string; version: string };
  /** The fetch requests to upstreams go through (default: the global one; the daemon passes `publicOnlyFetch()` unless policy allows private targets). */
  fetch?: typeof fetch;
}

interface ServerState {
  server: RegistryServer;
  /** Connected, not yet closed. */
  open: Set<UpstreamSession>;
  /** Upstream sessions opened (each initialize) for this version. */
  opened: number;
  /** Leases on a modern upstream held now (a client each, no session). */
  modern: number;
}

/** The era of an upstream version, once probed; with the probe's upstream name, for the log. */
interface Verdict {
  verdict: EraVerdict;
  name: string | undefined;
}

/** Idle clients of a modern upstream kept for the next leases, per server version. */
const MAX_IDLE_MODERN = 8;

/** The Launcher for remote-only servers. Containers: none. */
export class RemoteLauncher implements Launcher {
  private readonly logger: Logger;
  private readonly defaults: ResourceDefaults;
  private readonly upstream: UpstreamOptions;
  private readonly events: UpstreamSessionEvents;
  private readonly states = new Map<string, ServerState>();
  private readonly closing = new Set<Promise<void>>();
  /** Upstream sessions by (server version, client session); a shared server's idle session expires too. */
  private readonly sessions: SessionPool<UpstreamSession>;
  /** Era verdicts by server version (hash): probed once, reused by every later connect. */
  private readonly verdicts = new Map<string, Promise<Verdict>>();
  /** The same verdicts once settled (what `eraOf` reports for the catalog). */
  private readonly settled = new Map<string, EraVerdict>();
  /** Clients of modern leases not yet released. */
  private readonly modernClients = new Set<ModernUpstreamClient>();
  /**
   * Released clients of modern upstreams, by server version, for the next lease (a 2026 hop is
   * stateless: a client holds no session, only its own setup, which costs more than the call's
   * gateway time). One lease uses a client at a time, so its mid-call handlers serve that caller.
   */
  private readonly idleModern = new Map<string, ModernUpstreamClient[]>();
  /** Era probes sent since the launcher was created (tests and stats: one per server version). */
  probes = 0;
  private closed = false;

  constructor(private readonly options: RemoteLauncherOptions) {
    this.logger = options.logger.child({ component: "remote" });
    this.defaults = options.defaults ?? DEFAULT_RESOURCES;
    this.upstream = {
      logger: this.logger,
      secrets: options.secrets,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.clientInfo ? { clientInfo: options.clientInfo } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    this.events = {
      onConnected: (session) => {
        const state = this.state(session.server);
        state.opened += 1;
        state.open.add(session);
      },
      onDisconnected: (session) => {
        const state = this.states.get(session.server.hash);
        state?.open.delete(session);
        if (state) this.forgetIfEmpty(state);
      },
    };
    this.sessions = new SessionPool<UpstreamSession>({
      alive: (session) => !session.closed,
      close: (session, why) => this.closeSession(session, why),
      idleMs: options.sessionIdleMs ?? 600_000,
      expireShared: true,
    });
  }

  /**
   * Resolves URL and headers (a missing secret fails here, by name), checks the upstream answers
   * MCP and learns its era, once per version (kept for every later connect of it; a failed probe is
   * not kept, and retiring the version forgets it).
   */
  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    const target = remoteTarget(server, this.options.secrets);
    onProgress?.(`checking that ${target.display} (${target.type}) answers MCP ${target.type === "sse" ? "initialize" : "server/discover or initialize"}`);
    try {
      if (target.type === "sse") {
        const upstream = await UpstreamSession.probe(target, this.upstream);
        this.logger.debug({ server: server.prefix, url: target.display, upstream }, "remote answers");
      }
      const { verdict } = await this.verdict(server, target);
      onProgress?.(`${server.prefix} speaks ${verdict.kind === "modern" ? "2026-07-28 (stateless)" : "a 2025 revision (sessions)"}`);
    } catch (error) {
      throw new LaunchError(
        "PREPARE_FAILED",
        `remote server ${server.prefix} at ${target.display} (${target.type}) did not answer MCP ${target.type === "sse" ? "initialize" : "server/discover or initialize"}: ${describeFailure(error, target.secretValues)}`,
        "Check the url and transport type in the registry file, that the server is up and reachable from the daemon, and that its header secrets are right.",
      );
    }
  }

  /** The era of this version: probed once, then remembered (SSE is a 2025 transport: nothing to probe). */
  private verdict(server: RegistryServer, target: RemoteTarget): Promise<Verdict> {
    if (target.type === "sse") return Promise.resolve({ verdict: { kind: "legacy" }, name: undefined });
    let known = this.verdicts.get(server.hash);
    if (!known) {
      this.probes += 1;
      known = eraVerdict(target, this.upstream).then((found) => {
        this.logger.debug({ server: server.prefix, url: target.display, upstream: found.name, era: found.verdict.kind }, "remote answers");
        if (this.verdicts.get(server.hash) === known) this.settled.set(server.hash, found.verdict);
        return found;
      });
      this.verdicts.set(server.hash, known);
      // A failed probe is not a verdict: the next prepare or acquire probes again.
      known.catch(() => {
        if (this.verdicts.get(server.hash) === known) this.verdicts.delete(server.hash);
      });
    }
    return known;
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    // Fail fast, before connecting: resolves URL and headers (throws SECRET_MISSING etc.).
    const target = remoteTarget(server, this.options.secrets);
    this.state(server);
    let verdict: Verdict;
    try {
      verdict = await this.verdict(server, target);
    } catch (error) {
      throw new LaunchError(
        "CONTAINER_START_FAILED",
        `cannot reach the remote server ${server.prefix} at ${target.display} (${target.type}): ${describeFailure(error, target.secretValues)}`,
        "Check that the server is up and reachable from the daemon, and its url and header secrets; the next call tries again.",
      );
    }
    const found = verdict.verdict;
    // A 2025 caller keeps a 2025 session with an upstream that also speaks 2025 (it is asked mid-call, as before).
    if (found.kind === "modern" && (opts.era !== "legacy" || !found.alsoLegacy)) return this.acquireModern(server, target, found.discover);
    const t0 = performance.now();
    const held = await this.sessions.acquire(server, opts.sessionId, (key) => UpstreamSession.open(server, key, this.upstream, this.events, opts.signal));
    const session = held.instance;
    try {
      // A session whose transport was dropped reconnects here, so a down upstream fails at acquire.
      await session.ensureConnected(opts.signal);
    } catch (error) {
      held.release();
      throw error;
    }
    const reused = held.reused;
    return guardedLease({
      client: legacyUpstreamClient(session.client),
      containerId: undefined,
      timings: { queueMs: reused ? 0 : Math.max(0, performance.now() - t0 - session.startMs), startMs: reused ? 0 : session.startMs, warm: reused },
      run: (fn, signal) => this.run(session, fn, signal),
      release: held.release,
    });
  }

  /** A lease on a modern upstream: a client connected with the kept advertisement (no round trip), closed on release. */
  private async acquireModern(server: RegistryServer, target: RemoteTarget, discover: Extract<EraVerdict, { kind: "modern" }>["discover"]): Promise<Lease> {
    const t0 = performance.now();
    const client = this.idleModern.get(server.hash)?.pop() ?? (await connectModern(target, discover, this.upstream));
    const state = this.state(server);
    state.modern += 1;
    this.modernClients.add(client);
    let broken = false;
    return guardedLease({
      client,
      containerId: undefined,
      timings: { queueMs: 0, startMs: performance.now() - t0, warm: true },
      run: (fn, signal) =>
        this.runModern(server, target, client, fn, signal).catch((error: unknown) => {
          // Only an upstream's own answer leaves the client as it was; anything else, it is not reused.
          if (!(error instanceof McpError) || error instanceof LaunchError) broken = true;
          throw error;
        }),
      release: () => {
        state.modern -= 1;
        this.modernClients.delete(client);
        const idle = this.idleModern.get(server.hash) ?? [];
        if (!broken && !this.closed && this.settled.get(server.hash)?.kind === "modern" && idle.length < MAX_IDLE_MODERN) {
          idle.push(client);
          this.idleModern.set(server.hash, idle);
        } else void client.close();
        this.forgetIfEmpty(state);
      },
    });
  }

  /** Closes the idle clients of a server version (its verdict was dropped, or it was retired). */
  private dropIdle(server: RegistryServer): void {
    for (const client of this.idleModern.get(server.hash) ?? []) void client.close();
    this.idleModern.delete(server.hash);
  }

  /** One request to a modern upstream: under the time limit; sent once more only when it never left. */
  private async runModern<T>(server: RegistryServer, target: RemoteTarget, client: ModernUpstreamClient, fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const limit = this.limit(server, signal);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await Promise.race([fn(client, limit.signal), limit.stopped]);
        } catch (error) {
          if (limit.error) throw limit.error;
          if (error instanceof LaunchError) throw error;
          const failure = classifyFailure(error);
          if (failure === "answer") {
            // The upstream no longer speaks the era we remembered: the next acquire probes again.
            if ((error as { code?: unknown }).code === UNSUPPORTED_PROTOCOL_VERSION) this.forgetVerdict(server);
            throw error;
          }
          if (failure === "session-gone" || failure === "http") throw this.failure(server, target, "http", error);
          if (failure === "lost" || attempt >= 2) throw this.failure(server, target, failure, error);
          this.logger.info({ server: server.prefix, url: target.display, failure }, "upstream unreachable; sending the request once more");
        }
      }
    } finally {
      limit.dispose();
    }
  }

  async endSession(sessionId: string): Promise<void> {
    await this.sessions.endSession(sessionId);
  }

  /**
   * The era probed for this version in this process, for its catalog. Not `adoptEra`: a remote URL
   * can change era without its registry file changing (a redeploy), and a stale 2025 verdict would
   * never show itself (the server still answers initialize); the probe at prepare, once per
   * version and process, is also the check that the upstream answers at all.
   */
  eraOf(server: RegistryServer): KnownEra | undefined {
    const found = this.settled.get(server.hash);
    if (!found) return undefined;
    return found.kind === "modern" ? { kind: "modern", discover: found.discover } : { kind: "legacy" };
  }

  private forgetVerdict(server: RegistryServer): void {
    this.verdicts.delete(server.hash);
    this.settled.delete(server.hash);
    this.dropIdle(server);
  }

  async retire(server: RegistryServer): Promise<void> {
    this.forgetVerdict(server);
    await this.sessions.retire(server);
    const state = this.states.get(server.hash);
    if (state) this.forgetIfEmpty(state);
  }

  stats(): LauncherStats {
    const servers: ServerStats[] = [...this.states.values()].map((s) => ({
      prefix: s.server.prefix,
      revision: s.server.hash,
      running: s.open.size + s.modern,
      warm: 0,
      warming: 0,
      poolTarget: 0,
      started: s.opened,
    }));
    return { containers: 0, maxContainers: 0, queued: 0, started: 0, poolHits: 0, poolMisses: 0, servers };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sessions.close();
    const idle = [...this.idleModern.values()].flat();
    this.idleModern.clear();
    await Promise.all([...this.modernClients, ...idle].map((c) => c.close()));
    this.modernClients.clear();
    const ends: Array<Promise<void>> = [];
    for (const state of this.states.values()) for (const session of state.open) ends.push(this.closeSession(session, "launcher closed"));
    await Promise.all(ends);
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /** One request: under the time limit, reconnecting and sending once more only when it cannot have run upstream. */
  /** The server's time limit and the caller's cancel, as one signal (the SDK sends notifications/cancelled upstream when it aborts). */
  private limit(server: RegistryServer, signal?: AbortSignal): ReturnType<typeof callLimit> {
    const prefix = server.prefix;
    const limitMs = timeoutMs(server, this.defaults);
    return callLimit({
      limitMs,
      signal,
      error: (why) =>
        why === "timeout"
          ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s; the remote server was told to cancel it`, "Raise router.limits.timeoutSeconds if the tool needs longer.")
          : new LaunchError("ABORTED", `the call to ${prefix} was cancelled; the remote server was told to cancel it`, "Nothing to do: the client cancelled the request."),
    });
  }

  /** The LaunchError for a request that failed on the way (not an upstream's own answer). */
  private failure(server: RegistryServer, target: RemoteTarget | undefined, failure: Exclude<RemoteFailure, "answer">, error: unknown): LaunchError {
    const prefix = server.prefix;
    const url = target?.display ?? "its url";
    const reason = describeFailure(error, target?.secretValues ?? []);
    if (failure === "http") {
      return new LaunchError(
        "UPSTREAM_REFUSED",
        `the remote server ${prefix} at ${url} refused the request: ${reason}`,
        "Check the server's header secrets (401/403) or its health (5xx); the request was not retried.",
      );
    }
    if (failure === "lost") {
      return new LaunchError(
        "UPSTREAM_GONE",
        `the connection to the remote server ${prefix} at ${url} was lost during the call (${reason}); it was not retried because it may have run`,
        "Retry the call if it is safe to repeat; the next call opens a new session.",
      );
    }
    return new LaunchError(
      "CONTAINER_START_FAILED",
      `the remote server ${prefix} at ${url} did not take the request after reconnecting: ${reason}`,
      "Check that the server is up and reachable from the daemon; the next call tries again.",
    );
  }

  private async run<T>(session: UpstreamSession, fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const prefix = session.server.prefix;
    const limit = this.limit(session.server, signal);
    const stopped = limit.stopped;
    session.running += 1;
    try {
      for (let attempt = 1; ; attempt++) {
        await Promise.race([session.ensureConnected(limit.signal), stopped]);
        const generation = session.generation;
        try {
          return await Promise.race([fn(legacyUpstreamClient(session.client), limit.signal), stopped]);
        } catch (error) {
          if (limit.error) throw limit.error;
          if (error instanceof LaunchError) throw error;
          const failure = classifyFailure(error);
          if (failure === "answer") throw error;
          const target = session.target;
          if (failure === "http") throw this.failure(session.server, target, "http", error);
          session.invalidate(generation, failure);
          if (failure === "lost" || attempt >= 2) throw this.failure(session.server, target, failure, error);
          this.logger.info({ server: prefix, url: target?.display ?? "its url", failure }, "upstream restarted or unreachable; reconnecting and sending the request once more");
        }
      }
    } finally {
      session.running -= 1;
      limit.dispose();
    }
  }

  private closeSession(session: UpstreamSession, why: string): Promise<void> {
    const done = session.close(why).finally(() => this.closing.delete(done));
    this.closing.add(done);
    return done;
  }

  private state(server: RegistryServer): ServerState {
    let state = this.states.get(server.hash);
    if (!state) {
      state = { server, open: new Set(), opened: 0, modern: 0 };
      this.states.set(server.hash, state);
    }
    return state;
  }

  /** Forgets a retired version once its last session closed. */
  private forgetIfEmpty(state: ServerState): void {
    if (!this.sessions.tracks(state.server) && state.open.size === 0 && state.modern === 0) this.states.delete(state.server.hash);
  }
}
