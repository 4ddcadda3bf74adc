import { randomUUID } from "node:crypto";
import { PassThrough } from "node:stream";
import type { Duplex } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { lifecycleOf } from "../../registry/types.js";
import { callLimit } from "../call-limit.js";
import { ContainerSlots } from "./container-slots.js";
import type { ContainerSpec, ResourceDefaults } from "./container-spec.js";
import { DEFAULT_RESOURCES, INTERNAL_NETWORK, LABELS, containerSpec, selectedPackage, timeoutMs } from "./container-spec.js";
import { ContainerTransport } from "./container-transport.js";
import { EGRESS_NETWORK, EgressRelay } from "./egress-relay.js";
import { LaunchError } from "../errors.js";
import { containerAddress, ensureInternalNetwork, packageEndpoint, waitForPort } from "./http-endpoint.js";
import { guardedLease } from "../guarded-lease.js";
import type { Launcher, LauncherStats, Lease, LeaseTimings, ServerStats } from "../launcher.js";
import type { BaseImages } from "./package-preparer.js";
import { DEFAULT_BASE_IMAGES, PackagePreparer } from "./package-preparer.js";
import { scrubSecrets } from "../secrets.js";
import type { SecretSource } from "../secrets.js";
import { SessionPool } from "../session-pool.js";
import type { PoolSizing } from "./warm-pool.js";
import { DEFAULT_POOL_SIZING, DemandTracker } from "./warm-pool.js";

export interface DockerLauncherOptions {
  docker: Docker;
  logger: Logger;
  secrets: SecretSource;
  /** Host folder for prepared packages. */
  dataDir: string;
  /** Owner label value; reaping touches only containers of the same owner (default `default`). */
  owner?: string;
  baseImages?: Partial<BaseImages>;
  defaults?: ResourceDefaults;
  /** Global cap on our containers, warm ones included (default 16). */
  maxContainers?: number;
  /** Most callers waiting for a slot before calls are refused (default 64). */
  maxQueue?: number;
  /** Warm pool sizing for per-call servers; `false` turns the pool off. */
  pool?: Partial<PoolSizing> | false;
  /** A per-session container idle this long is removed (default 10 min). */
  sessionIdleMs?: number;
  /** Bound on container start + MCP initialize (default 30 s). */
  startTimeoutMs?: number;
  /** Bytes of stderr kept per container (default 16 KiB). */
  stderrLimit?: number;
  /** Run npm install scripts while preparing (default false). */
  npmInstallScripts?: boolean;
  /**
   * Build arguments for every `router.build` image (e.g. `{BASE_IMAGE: "..."}` to build on a
   * base image already on the engine, offline). Part of the built image's tag.
   */
  buildArgs?: Record<string, string>;
  clientInfo?: { name: string; version: string };
}

/** A running container with an initialized MCP client. */
interface Instance {
  readonly server: RegistryServer;
  readonly key: string;
  readonly containerId: string;
  readonly container: Docker.Container;
  readonly client: Client;
  readonly transport: ContainerTransport;
  /** Resolves with the exit code (null if unknown) when the container stops. */
  readonly exited: Promise<number | null>;
  readonly startMs: number;
  readonly secretValues: string[];
  exitCode: number | null | undefined;
  destroyed: boolean;
}

interface ServerState {
  server: RegistryServer;
  demand: DemandTracker;
  ready: Instance[];
  warming: number;
  started: number;
  failures: number;
  /** Temporary lower bound on the pool size (waitWarm). */
  floor: number;
  retired: boolean;
}

/** The Docker implementation of the Launcher: hardened containers over the Engine API. */
export class DockerLauncher implements Launcher {
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly owner: string;
  private readonly preparer: PackagePreparer;
  private readonly slots: ContainerSlots;
  private readonly sizing: PoolSizing | false;
  private readonly defaults: ResourceDefaults;
  private readonly states = new Map<string, ServerState>();
  private readonly removals = new Set<Promise<void>>();
  private readonly instances = new Set<Instance>();
  /** Per-session and shared containers. */
  private readonly kept: SessionPool<Instance>;
  private readonly shrinkTimer: NodeJS.Timeout;
  private closed = false;
  private internalNetwork: Promise<void> | undefined;
  /** Set up on the first container of a server with a network allowlist. */
  private readonly egress: EgressRelay;
  private startedTotal = 0;
  private poolHits = 0;
  private poolMisses = 0;

  constructor(private readonly options: DockerLauncherOptions) {
    this.docker = options.docker;
    this.logger = options.logger;
    this.owner = options.owner ?? "default";
    this.defaults = options.defaults ?? DEFAULT_RESOURCES;
    this.preparer = new PackagePreparer({
      docker: options.docker,
      logger: options.logger,
      dataDir: options.dataDir,
      ...(options.baseImages ? { baseImages: options.baseImages } : {}),
      ...(options.npmInstallScripts !== undefined ? { npmInstallScripts: options.npmInstallScripts } : {}),
      ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
    });
    this.egress = new EgressRelay({ docker: options.docker, logger: options.logger, owner: this.owner, image: options.baseImages?.node ?? DEFAULT_BASE_IMAGES.node });
    this.slots = new ContainerSlots(options.maxContainers ?? 16, options.maxQueue ?? 64);
    this.sizing = options.pool === false ? false : { ...DEFAULT_POOL_SIZING, ...options.pool };
    this.kept = new SessionPool<Instance>({
      open: async (server, _key, signal) => {
        const release = await this.slots.acquire(server.hash, this.limit(server), server.prefix, signal);
        return this.start(this.state(server), release, signal);
      },
      alive: (instance) => instance.exitCode === undefined && !instance.destroyed,
      close: (instance, why) => this.destroy(instance, why),
      idleMs: options.sessionIdleMs ?? 600_000,
    });
    this.shrinkTimer = setInterval(() => this.rebalanceAll(), 2_000);
    this.shrinkTimer.unref();
  }

  /** A launcher after reaping the containers a previous run of the same owner left behind. */
  static async create(options: DockerLauncherOptions): Promise<DockerLauncher> {
    const launcher = new DockerLauncher(options);
    await launcher.reapOrphans();
    return launcher;
  }

  /** Removes containers of this owner that no live instance of this launcher holds. Returns how many. */
  async reapOrphans(): Promise<number> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABELS.managed}=true`, `${LABELS.owner}=${this.owner}`] }),
    });
    const mine = new Set([...this.instances].map((i) => i.containerId));
    const orphans = list.filter((c) => !mine.has(c.Id));
    await Promise.all(orphans.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    if (orphans.length > 0) this.logger.info({ count: orphans.length }, "reaped containers left by a previous run");
    return orphans.length;
  }

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    await this.preparer.prepare(server, onProgress);
  }

  /** The image a prepared server version starts from, if it is prepared. */
  preparedImage(server: RegistryServer): string | undefined {
    return this.preparer.peek(server)?.image;
  }

  async acquire(server: RegistryServer, opts: { sessionId: string; signal?: AbortSignal }): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    // Fail fast, before any container: resolves secrets and arguments (throws SECRET_MISSING etc.).
    containerSpec(server, { image: "validation-only", secrets: this.options.secrets, owner: this.owner, egress: { network: EGRESS_NETWORK, proxyUrl: "validation-only" } });
    const state = this.state(server);
    state.retired = false;
    const lifecycle = lifecycleOf(server);
    if (lifecycle === "per-call") return this.acquirePerCall(state, opts.signal);
    return this.acquireKept(server, opts.sessionId, opts.signal);
  }

  async endSession(sessionId: string): Promise<void> {
    await this.kept.endSession(sessionId);
  }

  async retire(server: RegistryServer): Promise<void> {
    const state = this.states.get(server.hash);
    if (state) {
      state.retired = true;
      for (const instance of state.ready.splice(0)) this.destroy(instance, "retired");
    }
    await this.kept.retire(server);
  }

  stats(): LauncherStats {
    const servers: ServerStats[] = [...this.states.values()].map((s) => ({
      prefix: s.server.prefix,
      revision: s.server.hash,
      running: this.slots.count(s.server.hash),
      warm: s.ready.length,
      warming: s.warming,
      poolTarget: this.poolTarget(s),
      started: s.started,
    }));
    return {
      containers: this.slots.inUse,
      maxContainers: this.slots.max,
      queued: this.slots.queued,
      started: this.startedTotal,
      poolHits: this.poolHits,
      poolMisses: this.poolMisses,
      servers,
    };
  }

  /** Resolves once the warm pool of a per-call server holds at least `n` containers (tests, benchmarks). */
  async waitWarm(server: RegistryServer, n = 1, timeout = 30_000): Promise<void> {
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

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.shrinkTimer);
    this.slots.close();
    for (const state of this.states.values()) for (const instance of state.ready.splice(0)) this.destroy(instance, "launcher closed");
    await this.kept.close();
    for (const instance of this.instances) this.destroy(instance, "launcher closed");
    // Starts still in flight destroy themselves when they see `closed`; wait for every removal.
    while (this.removals.size > 0 || this.slots.inUse > 0) {
      await Promise.all([...this.removals]);
      if (this.slots.inUse > 0 && this.removals.size === 0) await new Promise((r) => setTimeout(r, 20));
    }
    await this.egress.close();
  }

  // ---- lifecycles -------------------------------------------------------------------------

  private async acquirePerCall(state: ServerState, signal?: AbortSignal): Promise<Lease> {
    state.demand.arrive(Date.now());
    let instance: Instance | undefined;
    while ((instance = state.ready.shift()) && instance.exitCode !== undefined) this.destroy(instance, "died while warm");
    if (instance) {
      this.poolHits += 1;
      this.refill(state);
      return this.lease(instance, { queueMs: 0, startMs: 0, warm: true });
    }
    this.poolMisses += 1;
    const t0 = performance.now();
    const release = await this.slots.acquire(state.server.hash, this.limit(state.server), state.server.prefix, signal);
    const queueMs = performance.now() - t0;
    this.refill(state);
    const started = await this.start(state, release, signal);
    return this.lease(started, { queueMs, startMs: started.startMs, warm: false });
  }

  private async acquireKept(server: RegistryServer, sessionId: string, signal?: AbortSignal): Promise<Lease> {
    const t0 = performance.now();
    const held = await this.kept.acquire(server, sessionId, signal);
    const instance = held.instance;
    const total = performance.now() - t0;
    const timings = held.reused ? { queueMs: 0, startMs: 0, warm: true } : { queueMs: Math.max(0, total - instance.startMs), startMs: instance.startMs, warm: false };
    return this.lease(instance, timings, held.release);
  }

  /** A per-call lease (one request; the container is destroyed on release) or a kept one (`release` gives it back). */
  private lease(instance: Instance, timings: LeaseTimings, release?: () => void): Lease {
    const perCall = release === undefined;
    return guardedLease({
      client: instance.client,
      containerId: instance.containerId,
      timings,
      run: (fn, signal) => this.run(instance, perCall, fn, signal),
      release: release ?? (() => this.destroy(instance, "call done")),
      ...(perCall ? { singleUse: `a per-call container of ${instance.server.prefix} serves exactly one request` } : {}),
    });
  }

  private async run<T>(instance: Instance, perCall: boolean, fn: (client: Client, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const prefix = instance.server.prefix;
    const limitMs = timeoutMs(instance.server, this.defaults);
    const killed = perCall ? "; its container was killed" : "";
    const limit = callLimit({
      limitMs,
      signal,
      onStop: (why) => {
        if (perCall) this.destroy(instance, why === "timeout" ? "call timed out" : "call cancelled");
      },
      error: (why) =>
        why === "timeout"
          ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s${killed}`, "Raise router.limits.timeoutSeconds if the tool needs longer.")
          : new LaunchError("ABORTED", `the call to ${prefix} was cancelled${killed}`, "Nothing to do: the client cancelled the request."),
    });
    const crashed = instance.exited.then((code) => {
      throw this.crashError(instance, code);
    });
    crashed.catch(() => undefined);
    try {
      return await Promise.race([fn(instance.client, limit.signal), crashed, limit.stopped]);
    } catch (error) {
      if (limit.error) throw limit.error;
      if (error instanceof LaunchError) throw error;
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
        const code = await Promise.race([instance.exited, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
        throw this.crashError(instance, code);
      }
      throw error;
    } finally {
      limit.dispose();
    }
  }

  private crashError(instance: Instance, code: number | null): LaunchError {
    const lines = instance.transport.stderrLines(10).map((l) => scrubSecrets(l, instance.secretValues));
    return new LaunchError(
      "CONTAINER_CRASHED",
      `the container of ${instance.server.prefix} exited with code ${code ?? "unknown"} during the call${lines.length ? `; last stderr lines:\n${lines.join("\n")}` : " (no stderr)"}`,
      "The server crashed: check its stderr above, its arguments and env in the registry file, and its limits (memory, pids).",
      { data: { exitCode: code, stderr: lines } },
    );
  }

  // ---- the warm pool ----------------------------------------------------------------------

  private poolTarget(state: ServerState): number {
    if (!this.sizing || state.retired || this.closed || lifecycleOf(state.server) !== "per-call" || state.failures >= 3) return 0;
    return Math.max(state.floor, state.demand.target(Date.now()));
  }

  private refill(state: ServerState): void {
    const target = this.poolTarget(state);
    while (state.ready.length + state.warming < target && state.warming < Math.max(2, target)) {
      // Leave room for callers: never take the last slot for a warm container.
      const release = this.slots.tryAcquire(state.server.hash, this.limit(state.server), 1);
      if (!release) return;
      state.warming += 1;
      this.start(state, release)
        .then(async (instance) => {
          // Warm the server's code paths (JIT, schemas) with a read-only request that changes no state.
          await instance.client.listTools().catch(() => undefined);
          state.warming -= 1;
          state.failures = 0;
          if (this.poolTarget(state) === 0 || instance.exitCode !== undefined) {
            this.destroy(instance, "pool not needed");
            return;
          }
          state.ready.push(instance);
          this.refill(state);
        })
        .catch((error: unknown) => {
          state.warming -= 1;
          if (this.closed || state.retired) return;
          state.failures += 1;
          this.logger.warn({ server: state.server.prefix, err: (error as Error).message }, "warm pool start failed");
        });
    }
  }

  private rebalanceAll(): void {
    for (const state of this.states.values()) {
      const target = this.poolTarget(state);
      while (state.ready.length > target) this.destroy(state.ready.pop() as Instance, "pool shrink");
      if (state.failures > 0 && state.failures < 3) this.refill(state);
    }
  }

  // ---- containers -------------------------------------------------------------------------

  private state(server: RegistryServer): ServerState {
    let state = this.states.get(server.hash);
    if (!state) {
      state = {
        server,
        demand: new DemandTracker(this.sizing || DEFAULT_POOL_SIZING),
        ready: [],
        warming: 0,
        started: 0,
        failures: 0,
        floor: 0,
        retired: false,
      };
      this.states.set(server.hash, state);
    }
    return state;
  }

  private limit(server: RegistryServer): number {
    return server.entry.router?.limits?.concurrency ?? Number.POSITIVE_INFINITY;
  }

  private async spec(server: RegistryServer, image: string): Promise<ContainerSpec> {
    const network = server.entry.router?.network;
    const egress =
      typeof network === "object"
        ? await this.egress.route(server, network.allow, selectedPackage(server).transport.type === "stdio" ? EGRESS_NETWORK : INTERNAL_NETWORK)
        : undefined;
    return containerSpec(server, { image, secrets: this.options.secrets, owner: this.owner, defaults: this.defaults, ...(egress ? { egress } : {}) });
  }

  private ensureInternalNetwork(): Promise<void> {
    this.internalNetwork ??= ensureInternalNetwork(this.docker, INTERNAL_NETWORK, { [LABELS.managed]: "true" }).catch((error: unknown) => {
      this.internalNetwork = undefined;
      throw error;
    });
    return this.internalNetwork;
  }

  /** Starts a container and initializes MCP on it. Holds `release` until the container is removed. */
  private async start(state: ServerState, release: () => void, signal?: AbortSignal): Promise<Instance> {
    const server = state.server;
    const t0 = performance.now();
    let container: Docker.Container | undefined;
    let transport: ContainerTransport | undefined;
    let exited: Promise<number | null> | undefined;
    try {
      const prepared = await this.preparer.prepare(server);
      if (typeof server.entry.router?.network === "object" && selectedPackage(server).transport.type !== "stdio") await this.ensureInternalNetwork();
      const spec = await this.spec(server, prepared.image);
      for (const warning of spec.warnings) this.logger.warn({ server: server.prefix }, warning);
      if (prepared.entrypoint) spec.create.Entrypoint = prepared.entrypoint;
      const pkg = selectedPackage(server);
      if (spec.create.HostConfig?.NetworkMode === INTERNAL_NETWORK) await this.ensureInternalNetwork();
      container = await this.docker.createContainer(spec.create);
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      const endBoth = (): void => {
        stdout.end();
        stderr.end();
      };
      stream.on("end", endBoth);
      stream.on("close", endBoth);
      stream.on("error", endBoth);
      await container.start();
      const c = container;
      exited = c.wait().then(
        (r: { StatusCode?: number }) => (typeof r?.StatusCode === "number" ? r.StatusCode : null),
        () => null,
      );
      transport = new ContainerTransport({ stdin: stream, stdout, stderr, stderrLimit: this.options.stderrLimit ?? 16 * 1024 });
      const client = new Client(this.options.clientInfo ?? { name: "mcp-router", version: "0.1.0" }, {
        capabilities: { sampling: {}, elicitation: {} },
      });
      // Starting counts against the server's own time limit too: a server that never answers
      // initialize fails its call within that limit.
      const startTimeout = Math.min(this.options.startTimeoutMs ?? 30_000, timeoutMs(server, this.defaults));
      const initCrash = exited.then((code) => {
        throw new LaunchError(
          "CONTAINER_START_FAILED",
          `the container of ${server.prefix} exited with code ${code ?? "unknown"} before MCP initialization finished; last stderr lines:\n${(transport as ContainerTransport).stderrLines(10).map((l) => scrubSecrets(l, spec.secretValues)).join("\n")}`,
          "Check the server's package, arguments and env in the registry file; run `mcp-router tools <server>` to see its output.",
        );
      });
      initCrash.catch(() => undefined);
      let mcpTransport: Transport = transport;
      if (pkg.transport.type !== "stdio") {
        // The server speaks HTTP on its own address; the attached streams only carry its logs.
        await transport.start();
        const url = packageEndpoint(pkg, spec.create.Env ?? [], await containerAddress(c));
        const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
        await Promise.race([waitForPort(url.hostname, port, Date.now() + startTimeout, signal), initCrash]);
        mcpTransport = pkg.transport.type === "sse" ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url);
      }
      const initDone = client.connect(mcpTransport, { timeout: startTimeout, ...(signal ? { signal } : {}) }).catch((error: unknown) => {
        if (!(error instanceof McpError && error.code === ErrorCode.RequestTimeout)) throw error;
        throw new LaunchError(
          "TIMEOUT",
          `${server.prefix} did not answer MCP initialize within ${Math.round(startTimeout / 1000)} s; its container was removed`,
          "Check that the server speaks MCP on stdio (its command and arguments in the registry file), or raise router.limits.timeoutSeconds if it starts slowly.",
        );
      });
      await Promise.race([initDone, initCrash]);
      const startMs = performance.now() - t0;
      state.demand.observeStart(startMs);
      state.started += 1;
      this.startedTotal += 1;
      const instance: Instance = {
        server,
        key: server.hash,
        containerId: c.id,
        container: c,
        client,
        transport,
        exited,
        startMs,
        secretValues: spec.secretValues,
        exitCode: undefined,
        destroyed: false,
      };
      this.instances.add(instance);
      void exited.then((code) => {
        instance.exitCode = code;
        const index = state.ready.indexOf(instance);
        if (index >= 0) {
          state.ready.splice(index, 1);
          this.destroy(instance, "died while warm");
          this.refill(state);
        }
      });
      (instance as { release?: () => void }).release = release;
      this.logger.debug({ server: server.prefix, container: c.id.slice(0, 12), startMs: Math.round(startMs) }, "container started");
      if (this.closed) {
        this.destroy(instance, "launcher closed");
        throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
      }
      return instance;
    } catch (error) {
      if (container) this.removeContainer(container, release);
      else release();
      if (error instanceof LaunchError) throw error;
      if (signal?.aborted) throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled while its container started`, "Nothing to do: the client cancelled the request.");
      const detail = transport ? transport.stderrLines(5).join(" | ") : "";
      throw new LaunchError(
        "CONTAINER_START_FAILED",
        `could not start ${server.prefix}: ${(error as Error).message}${detail ? `; stderr: ${detail}` : ""}`,
        "Check that the Docker engine is running and the server's image is prepared (`mcp-router tools <server>` shows progress).",
        { cause: error },
      );
    }
  }

  /** Kills and removes a container off the caller's path. Idempotent. */
  private destroy(instance: Instance, why: string): void {
    if (instance.destroyed) return;
    instance.destroyed = true;
    this.instances.delete(instance);
    const tail = instance.transport.stderrTail();
    if (tail) this.logger.debug({ server: instance.server.prefix, container: instance.containerId.slice(0, 12), stderr: scrubSecrets(tail.slice(-2048), instance.secretValues) }, "container stderr");
    this.logger.debug({ server: instance.server.prefix, container: instance.containerId.slice(0, 12), why }, "removing container");
    void instance.client.close().catch(() => undefined);
    const release = (instance as { release?: () => void }).release ?? (() => undefined);
    this.removeContainer(instance.container, release);
  }

  private removeContainer(container: Docker.Container, release: () => void): void {
    const removal = container
      .remove({ force: true })
      .catch((error: { statusCode?: number; message?: string }) => {
        if (error.statusCode !== 404 && error.statusCode !== 409) this.logger.warn({ container: container.id.slice(0, 12), err: error.message }, "container removal failed");
      })
      .finally(() => {
        this.removals.delete(removal);
        release();
      });
    this.removals.add(removal);
  }
}

export function newOwnerId(): string {
  return randomUUID().slice(0, 8);
}
