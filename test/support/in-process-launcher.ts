/**
 * A Launcher whose upstreams are real MCP servers running in this process: each instance is a
 * fresh SDK server, linked to the SDK's real `Client` by `InMemoryTransport.createLinkedPair()`.
 * It honours `router.lifecycle` as the Docker launcher does (per-call: a fresh instance per
 * acquire; per-session: one per session id; shared: one), applies the server's time limit and
 * the caller's cancellation with the same `callLimit`, and counts what it starts. The gateway,
 * the reconciler and the transports above it are the ones users run; only containers are left out.
 *
 * Eras as for containers: an upstream may be an SDK v2 server served with stdio framing
 * (`serveStdio` on a linked in-memory pair), whose opening message picks its era as a 2026 stdio
 * server's in a container does. With `probeEras`, prepare learns a version's era once on a
 * throwaway instance (in place: `server/discover`, else `initialize`); an era adopted from a cached
 * catalog (`adoptEra`) or probed is used by every later start: a modern one connects the SDK v2
 * client from the kept `server/discover` answer and sends nothing on connect (no initialize); with
 * no verdict, the SDK v1 client initializes (the 2025 default).
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { JSONRPCMessage as ModernMessage, Transport as ModernTransport } from "@modelcontextprotocol/client";
import { InMemoryTransport as ModernInMemoryTransport } from "@modelcontextprotocol/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { McpServerFactory } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { callLimit } from "../../src/launch/call-limit.js";
import { selectedPackage } from "../../src/launch/docker/container-spec.js";
import type { ResourceDefaults } from "../../src/launch/limits.js";
import { DEFAULT_RESOURCES, timeoutMs } from "../../src/launch/limits.js";
import { LaunchError } from "../../src/launch/errors.js";
import type { AcquireOptions, KnownEra, Launcher, LauncherStats, Lease, ServerStats, UpstreamClient } from "../../src/launch/launcher.js";
import { legacyUpstreamClient } from "../../src/launch/legacy-upstream-client.js";
import { connectModernStream, probeStreamEra } from "../../src/launch/modern-upstream-client.js";
import type { Lifecycle, RegistryServer } from "../../src/registry/types.js";
import { lifecycleOf } from "../../src/registry/types.js";
import { IMPLEMENTATION } from "../../src/version.js";

/** One running upstream: an SDK server (low-level `Server` or `McpServer`) and what stops its timers. */
export type InProcessUpstream = ConnectedUpstream | StdioUpstream;

/** An SDK v1 server connected to its end of the pair (it speaks the 2025 revisions). */
export interface ConnectedUpstream {
  readonly server: { connect(transport: Transport): Promise<void>; close(): Promise<void> };
  /** Stops what the server started on its own (intervals, timeouts), once it is closed. */
  cleanup?(sessionId: string): void | Promise<void>;
}

/**
 * An SDK v2 server served as a stdio server is (`serveStdio`): the connection's opening message
 * picks the era (a 2026 request pins a modern instance, `initialize` a 2025 one), one instance
 * from `stdio` per connection.
 */
export interface StdioUpstream {
  readonly stdio: McpServerFactory;
  /** Every message the upstream receives on this instance, in order (tests count them). */
  onMessage?(message: ModernMessage): void;
  cleanup?(sessionId: string): void | Promise<void>;
}

/** Builds a fresh upstream: called once per instance, so instances share no state. */
export type UpstreamFactory = () => InProcessUpstream;

export interface InProcessLauncherOptions {
  /** The upstream implementation of each package identifier (the `identifier` of the server's selected package). */
  upstreams: Readonly<Record<string, UpstreamFactory>>;
  /** Time limits of servers without `router.limits.timeoutSeconds`. */
  defaults?: ResourceDefaults;
  clientInfo?: { name: string; version: string };
  /** Learn each version's era at prepare on a throwaway instance, as the Docker launcher does (default: no probe; 2025 unless adopted). */
  probeEras?: boolean;
}

/** Why an instance stopped, as `stopped` events report it. */
export type StopReason = "call done" | "call timed out" | "call cancelled" | "session ended" | "retired" | "launcher closed" | "closed by the upstream";

export interface InstanceEvent {
  readonly id: string;
  readonly prefix: string;
  readonly lifecycle: Lifecycle;
  /** The session an instance is kept for (per-session), `""` for shared, undefined for per-call. */
  readonly sessionKey: string | undefined;
}

export interface InProcessLauncherEvents {
  started: [InstanceEvent];
  stopped: [InstanceEvent & { reason: StopReason }];
}

interface Instance extends InstanceEvent {
  readonly server: RegistryServer;
  /** The connected client: SDK v1 (initialized) or v2 (connected from a modern verdict). */
  readonly client: UpstreamClient;
  readonly closeClient: () => Promise<void>;
  /** Closes the upstream's side. */
  readonly closeUpstream: () => Promise<void>;
  readonly upstream: InProcessUpstream;
  /** Rejects with a LaunchError once the instance stops (calls in progress end with it). */
  readonly lost: Promise<never>;
  readonly lose: (error: LaunchError) => void;
  active: number;
  stopped: boolean;
  retireWhenIdle: boolean;
}

interface ServerState {
  server: RegistryServer;
  started: number;
  retired: boolean;
  /** Per-session (by session id) or shared (`""`) instances, possibly still starting. */
  kept: Map<string, Promise<Instance>>;
}

export class InProcessLauncher implements Launcher {
  /** `started` and `stopped` for every instance: tests wait for these instead of sleeping. */
  readonly events = new EventEmitter<InProcessLauncherEvents>();
  private readonly states = new Map<string, ServerState>();
  private readonly instances = new Set<Instance>();
  private readonly prepared = new Set<string>();
  /** Era verdicts by server version: probed at prepare (`probeEras`) or adopted from a cached catalog. */
  private readonly eras = new Map<string, KnownEra>();
  /** Era probes run (one throwaway instance each). */
  probes = 0;
  private startedTotal = 0;
  private perCallStarts = 0;
  private closed = false;

  constructor(private readonly options: InProcessLauncherOptions) {}

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    this.factory(server);
    if (!this.prepared.has(server.hash)) onProgress?.(`${server.prefix} runs in process; nothing to prepare`);
    this.prepared.add(server.hash);
    if (this.options.probeEras && !this.eras.has(server.hash)) {
      const era = await this.probe(server);
      this.eras.set(server.hash, era);
      onProgress?.(`${server.prefix} speaks ${era.kind === "modern" ? "2026-07-28 (no initialize)" : "a 2025 revision (initialize)"}`);
    }
  }

  eraOf(server: RegistryServer): KnownEra | undefined {
    return this.eras.get(server.hash);
  }

  adoptEra(server: RegistryServer, era: KnownEra): void {
    if (!this.eras.has(server.hash)) this.eras.set(server.hash, era);
  }

  /** The era of a version, probed in place on a throwaway instance (no events, not counted as started). */
  private async probe(server: RegistryServer): Promise<KnownEra> {
    this.probes += 1;
    const upstream = this.factory(server)();
    const id = randomBytes(6).toString("hex");
    const link = this.link(upstream, id);
    try {
      await link.serve();
      return await probeStreamEra(link.client, { timeoutMs: 10_000, ...(this.options.clientInfo ? { clientInfo: this.options.clientInfo } : {}) });
    } finally {
      await link.client.close().catch(() => undefined);
      await link.closeUpstream().catch(() => undefined);
      await upstream.cleanup?.(id);
    }
  }

  /** A linked pair with the upstream on one end: `serve` connects (or serves) it; `client` is the other end. */
  private link(upstream: InProcessUpstream, id: string): { client: ModernTransport; serve(): Promise<void>; closeUpstream(): Promise<void> } {
    if ("stdio" in upstream) {
      const [client, served] = ModernInMemoryTransport.createLinkedPair();
      served.sessionId = id;
      const send = client.send.bind(client);
      client.send = (message, options) => {
        upstream.onMessage?.(message);
        return send(message, options);
      };
      let handle: { close(): Promise<void> } | undefined;
      return {
        client,
        serve: async () => {
          handle = serveStdio(upstream.stdio, { transport: served, legacy: "serve" });
        },
        closeUpstream: async () => {
          await handle?.close();
        },
      };
    }
    const [client, served] = InMemoryTransport.createLinkedPair();
    // Servers that keep per-session state in module globals (server-everything) key it by the
    // transport's session id: a distinct one per instance keeps instances apart.
    served.sessionId = id;
    return {
      client: client as unknown as ModernTransport,
      serve: () => upstream.server.connect(served),
      closeUpstream: () => upstream.server.close(),
    };
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    if (opts.signal?.aborted) throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled before it started`, "Nothing to do: the client cancelled the request.");
    const state = this.state(server);
    state.retired = false;
    const lifecycle = lifecycleOf(server);
    if (lifecycle === "per-call") {
      this.perCallStarts += 1;
      const t0 = performance.now();
      const instance = await this.start(state, undefined);
      return this.lease(instance, { queueMs: 0, startMs: performance.now() - t0, warm: false }, true);
    }
    const key = lifecycle === "shared" ? "" : opts.sessionId;
    const t0 = performance.now();
    let pending = state.kept.get(key);
    let reused = true;
    if (pending) {
      const existing = await pending.catch(() => undefined);
      if (!existing || existing.stopped) {
        if (state.kept.get(key) === pending) state.kept.delete(key);
        pending = undefined;
      }
    }
    if (!pending) {
      reused = false;
      const starting = this.start(state, key);
      pending = starting;
      state.kept.set(key, starting);
      starting.catch(() => {
        if (state.kept.get(key) === starting) state.kept.delete(key);
      });
    }
    const instance = await pending;
    return this.lease(instance, { queueMs: 0, startMs: reused ? 0 : performance.now() - t0, warm: reused }, false);
  }

  async endSession(sessionId: string): Promise<void> {
    const ends: Array<Promise<void>> = [];
    for (const state of this.states.values()) {
      if (lifecycleOf(state.server) !== "per-session") continue;
      const pending = state.kept.get(sessionId);
      if (!pending) continue;
      state.kept.delete(sessionId);
      ends.push(pending.then((instance) => this.stop(instance, "session ended"), () => undefined));
    }
    await Promise.all(ends);
  }

  async retire(server: RegistryServer): Promise<void> {
    const state = this.states.get(server.hash);
    if (!state) return;
    state.retired = true;
    for (const [key, pending] of state.kept) {
      const instance = await pending.catch(() => undefined);
      if (!instance) continue;
      if (instance.active === 0) {
        state.kept.delete(key);
        await this.stop(instance, "retired");
      } else {
        instance.retireWhenIdle = true;
      }
    }
  }

  stats(): LauncherStats {
    const servers: ServerStats[] = [...this.states.values()].map((s) => ({
      prefix: s.server.prefix,
      revision: s.server.hash,
      running: [...this.instances].filter((i) => i.server.hash === s.server.hash).length,
      warm: 0,
      warming: 0,
      poolTarget: 0,
      started: s.started,
    }));
    return {
      containers: this.instances.size,
      maxContainers: Number.POSITIVE_INFINITY,
      queued: 0,
      started: this.startedTotal,
      poolHits: 0,
      poolMisses: this.perCallStarts,
      servers,
    };
  }

  /** Instances running now, of one server (by prefix, every version) or of all. */
  running(prefix?: string): number {
    return [...this.instances].filter((i) => prefix === undefined || i.prefix === prefix).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pendings: Array<Promise<unknown>> = [];
    for (const state of this.states.values()) {
      for (const pending of state.kept.values()) pendings.push(pending.then((i) => this.stop(i, "launcher closed"), () => undefined));
      state.kept.clear();
    }
    await Promise.all(pendings);
    await Promise.all([...this.instances].map((i) => this.stop(i, "launcher closed")));
  }

  // ---- instances --------------------------------------------------------------------------

  private factory(server: RegistryServer): UpstreamFactory {
    const identifier = selectedPackage(server).identifier;
    const factory = this.options.upstreams[identifier];
    if (!factory) {
      throw new LaunchError(
        "PACKAGE_UNSUPPORTED",
        `no in-process upstream for package ${identifier} of ${server.prefix} (known: ${Object.keys(this.options.upstreams).join(", ") || "none"})`,
        "Give the InProcessLauncher an upstream factory for this package identifier.",
      );
    }
    return factory;
  }

  private state(server: RegistryServer): ServerState {
    let state = this.states.get(server.hash);
    if (!state) {
      state = { server, started: 0, retired: false, kept: new Map() };
      this.states.set(server.hash, state);
    }
    return state;
  }

  /** A fresh upstream, linked to a fresh client and initialized. */
  private async start(state: ServerState, sessionKey: string | undefined): Promise<Instance> {
    const server = state.server;
    const upstream = this.factory(server)();
    const id = randomBytes(6).toString("hex");
    const link = this.link(upstream, id);
    const era = this.eras.get(server.hash);
    let lose: (error: LaunchError) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => {
      lose = reject;
    });
    lost.catch(() => undefined);
    let closeClient: () => Promise<void> = async () => undefined;
    let client: UpstreamClient | undefined;
    const onclose = (): void => void this.stop(instance, "closed by the upstream");
    const instance: Instance = {
      id,
      prefix: server.prefix,
      lifecycle: lifecycleOf(server),
      sessionKey,
      server,
      get client(): UpstreamClient {
        if (!client) throw new Error("the in-process instance is not connected yet");
        return client;
      },
      closeClient: () => closeClient(),
      closeUpstream: () => link.closeUpstream(),
      upstream,
      lost,
      lose,
      active: 0,
      stopped: false,
      retireWhenIdle: false,
    };
    try {
      await link.serve();
      if (era?.kind === "modern") {
        // The kept advertisement: nothing is sent on connect (no initialize, no probe).
        const modern = await connectModernStream(link.client, era.discover, this.options.clientInfo);
        modern.client.onclose = onclose;
        closeClient = () => modern.close();
        client = modern;
      } else {
        const legacy = new Client(this.options.clientInfo ?? { ...IMPLEMENTATION }, { capabilities: { sampling: {}, elicitation: {} } });
        legacy.onclose = onclose;
        closeClient = () => legacy.close();
        await legacy.connect(link.client as unknown as Transport);
        client = legacyUpstreamClient(legacy);
      }
    } catch (error) {
      instance.stopped = true;
      await closeClient().catch(() => undefined);
      await link.closeUpstream().catch(() => undefined);
      throw new LaunchError("CONTAINER_START_FAILED", `could not start the in-process upstream of ${server.prefix}: ${(error as Error).message}`, "Check the upstream factory.", { cause: error });
    }
    state.started += 1;
    this.startedTotal += 1;
    this.instances.add(instance);
    this.events.emit("started", this.describe(instance));
    if (this.closed) {
      await this.stop(instance, "launcher closed");
      throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    }
    return instance;
  }

  private lease(instance: Instance, timings: Lease["timings"], perCall: boolean): Lease {
    instance.active += 1;
    let released = false;
    let runs = 0;
    const client = instance.client;
    const run = <T>(fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> => this.run(instance, perCall, fn, signal);
    const onRelease = (): void => this.released(instance, perCall);
    return {
      client,
      containerId: instance.id,
      timings,
      run<T>(fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
        if (released) return Promise.reject(new LaunchError("ABORTED", "the lease was already released", "Acquire a new lease for each call."));
        runs += 1;
        if (perCall && runs > 1) {
          return Promise.reject(new LaunchError("ABORTED", `a per-call instance of ${instance.prefix} serves exactly one request`, "Acquire a new lease for each call."));
        }
        return run(fn, signal);
      },
      release(): void {
        if (released) return;
        released = true;
        instance.active -= 1;
        onRelease();
      },
    };
  }

  private released(instance: Instance, perCall: boolean): void {
    if (perCall) {
      void this.stop(instance, "call done");
      return;
    }
    if (instance.active > 0 || instance.stopped) return;
    const state = this.states.get(instance.server.hash);
    if (instance.retireWhenIdle || state?.retired) {
      if (state && instance.sessionKey !== undefined && state.kept.get(instance.sessionKey)) state.kept.delete(instance.sessionKey);
      void this.stop(instance, "retired");
    }
  }

  private async run<T>(instance: Instance, perCall: boolean, fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const prefix = instance.prefix;
    const limitMs = timeoutMs(instance.server, this.options.defaults ?? DEFAULT_RESOURCES);
    const stopped = perCall ? "; its instance was stopped" : "";
    const limit = callLimit({
      limitMs,
      signal,
      onStop: (why) => {
        if (perCall) void this.stop(instance, why === "timeout" ? "call timed out" : "call cancelled");
      },
      error: (why) =>
        why === "timeout"
          ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s${stopped}`, "Raise router.limits.timeoutSeconds if the tool needs longer.")
          : new LaunchError("ABORTED", `the call to ${prefix} was cancelled${stopped}`, "Nothing to do: the client cancelled the request."),
    });
    try {
      return await Promise.race([fn(instance.client, limit.signal), instance.lost, limit.stopped]);
    } catch (error) {
      if (limit.error) throw limit.error;
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) await instance.lost;
      throw error;
    } finally {
      limit.dispose();
    }
  }

  /** Closes the client and the upstream, then runs the upstream's cleanup. Idempotent. */
  private async stop(instance: Instance, reason: StopReason): Promise<void> {
    if (instance.stopped) return;
    instance.stopped = true;
    this.instances.delete(instance);
    instance.lose(
      reason === "closed by the upstream"
        ? new LaunchError("CONTAINER_CRASHED", `the in-process upstream of ${instance.prefix} closed during the call`, "The upstream server closed its transport: check its implementation.")
        : new LaunchError(reason === "launcher closed" ? "LAUNCHER_CLOSED" : "ABORTED", `the instance of ${instance.prefix} was stopped (${reason})`, "Retry the call."),
    );
    await instance.closeClient().catch(() => undefined);
    await instance.closeUpstream().catch(() => undefined);
    await instance.upstream.cleanup?.(instance.id);
    this.events.emit("stopped", { ...this.describe(instance), reason });
  }

  private describe(instance: Instance): InstanceEvent {
    return { id: instance.id, prefix: instance.prefix, lifecycle: instance.lifecycle, sessionKey: instance.sessionKey };
  }
}

/**
 * Resolves with the next `event` of `emitter` that `match` accepts: tests wait for what happened,
 * never for a time. Listen before causing the event.
 */
export function nextEvent<T extends Record<keyof T, unknown[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  event: K,
  match: (value: T[K][0]) => boolean = () => true,
): Promise<T[K][0]> {
  const untyped = emitter as unknown as EventEmitter;
  return new Promise((resolve) => {
    const listener = (value: T[K][0]): void => {
      if (!match(value)) return;
      untyped.off(event, listener);
      resolve(value);
    };
    untyped.on(event, listener);
  });
}
