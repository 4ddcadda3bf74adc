/**
 * The Docker implementation of the Launcher: hardened containers over the Engine API. This file
 * only orchestrates; each job has its own file: preparing images (package-preparer), the spec
 * (container-spec), starting one container (container-runner), one request on it (container-call),
 * slots (container-slots), the warm pool (warm-pool), per-session and shared containers
 * (../session-pool), removal (container-remover) and reaping what a previous run left (orphan-reaper).
 */
import { randomUUID } from "node:crypto";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import type { Lifecycle } from "../../registry/types.js";
import { lifecycleOf } from "../../registry/types.js";
import { LaunchError } from "../errors.js";
import { guardedLease } from "../guarded-lease.js";
import { ListToolsResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { AcquireOptions, KnownEra, Launcher, LauncherStats, Lease, LeaseTimings, UpstreamEra } from "../launcher.js";
import { advertisesLegacy, UNSUPPORTED_PROTOCOL_VERSION } from "../launcher.js";
import { scrubSecrets } from "../../secrets/secret-scrubber.js";
import type { SecretSource } from "../../secrets/secret-source.js";
import { SessionPool } from "../session-pool.js";
import { containerCall } from "./container-call.js";
import { ContainerRemover } from "./container-remover.js";
import { ContainerRunner } from "./container-runner.js";
import type { RunningContainer } from "./container-runner.js";
import { ContainerSlots, concurrencyOf } from "./container-slots.js";
import type { ResolvedContainer } from "./container-spec.js";
import { resolveContainer } from "./container-spec.js";
import type { ResourceDefaults } from "../limits.js";
import { DEFAULT_RESOURCES, timeoutMs } from "../limits.js";
import { EgressRelay } from "./egress-relay.js";
import { OrphanReaper } from "./orphan-reaper.js";
import type { BaseImages } from "./package-preparer.js";
import { DEFAULT_BASE_IMAGES, PackagePreparer } from "./package-preparer.js";
import type { PoolSizing } from "./warm-pool.js";
import { DEFAULT_POOL_SIZING, WarmPool } from "./warm-pool.js";

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
  /** Egress may reach loopback, private and link-local addresses (operator policy `network.privateTargets`; default no). */
  privateTargets?: boolean;
}

/** A running container of ours, with its slot. */
interface Instance extends RunningContainer {
  /** Gives the container's slot back; called once it is removed. */
  readonly release: () => void;
  exitCode: number | null | undefined;
  destroyed: boolean;
}

export class DockerLauncher implements Launcher {
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly owner: string;
  private readonly defaults: ResourceDefaults;
  private readonly preparer: PackagePreparer;
  private readonly slots: ContainerSlots;
  private readonly remover: ContainerRemover;
  private readonly runner: ContainerRunner;
  private readonly reaper: OrphanReaper;
  /** Set up on the first container of a server with a network allowlist. */
  private readonly egress: EgressRelay;
  /** Pre-started containers of per-call servers. */
  private readonly warm: WarmPool<Instance>;
  /** Per-session and shared containers. */
  private readonly kept: SessionPool<Instance>;
  private readonly instances = new Set<Instance>();
  /** Server versions acquired, with how many containers each started. */
  private readonly servers = new Map<string, { server: RegistryServer; started: number }>();
  /**
   * Era verdicts by server version: probed once at prepare on a throwaway container, or adopted
   * from a cached catalog (a version is pinned, package version or image, so its era is too). A
   * modern one connects the version's containers from it (stdio: nothing sent before the first
   * request, no initialize in the warm pool or on a call's path). No verdict: initialize (2025).
   */
  private readonly eras = new Map<string, KnownEra>();
  /** Era probes in flight, by server version (concurrent prepares share one). */
  private readonly probing = new Map<string, Promise<void>>();
  /** Era probes run (one throwaway container each). */
  private probesRun = 0;
  private closed = false;
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
    this.egress = new EgressRelay({ docker: options.docker, logger: options.logger, owner: this.owner, image: options.baseImages?.node ?? DEFAULT_BASE_IMAGES.node, ...(options.privateTargets ? { privateTargets: true } : {}) });
    this.slots = new ContainerSlots(options.maxContainers ?? 16, options.maxQueue ?? 64);
    this.remover = new ContainerRemover(options.logger);
    this.reaper = new OrphanReaper(options.docker, this.owner, options.logger);
    this.runner = new ContainerRunner({
      docker: options.docker,
      logger: options.logger,
      owner: this.owner,
      preparer: this.preparer,
      egress: this.egress,
      remover: this.remover,
      defaults: this.defaults,
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.stderrLimit !== undefined ? { stderrLimit: options.stderrLimit } : {}),
      ...(options.clientInfo ? { clientInfo: options.clientInfo } : {}),
    });
    this.warm = new WarmPool<Instance>({
      sizing: options.pool === false ? false : { ...DEFAULT_POOL_SIZING, ...options.pool },
      slots: this.slots,
      logger: options.logger,
      start: async (server, release) => {
        const instance = await this.start(this.resolve(server), release, "per-call");
        // Warm the server's code paths (JIT, schemas) with a read-only request that changes no state.
        // A 2026 container connected from its verdict was sent nothing yet: this answer is its proof
        // of life (initialize is a 2025 one's), so it counts as warm only once it answered.
        const warmUp = instance.client.request({ method: "tools/list", params: {} }, ListToolsResultSchema);
        if (instance.client.era === "legacy") await warmUp.catch(() => undefined);
        else {
          try {
            await warmUp;
          } catch (error) {
            this.destroy(instance, "no answer to its first request");
            this.healEra(server, error);
            throw error;
          }
        }
        return instance;
      },
      destroy: (instance, why) => this.destroy(instance, why),
      exited: (instance) => instance.exitCode !== undefined,
    });
    this.kept = new SessionPool<Instance>({
      alive: (instance) => instance.exitCode === undefined && !instance.destroyed,
      close: (instance, why) => this.destroy(instance, why),
      idleMs: options.sessionIdleMs ?? 600_000,
    });
  }

  /** A launcher after reaping the containers a previous run of the same owner left behind. */
  static async create(options: DockerLauncherOptions): Promise<DockerLauncher> {
    const launcher = new DockerLauncher(options);
    await launcher.reapOrphans();
    return launcher;
  }

  /** Removes containers of this owner that no live instance of this launcher holds. Returns how many. */
  async reapOrphans(): Promise<number> {
    return this.reaper.reap(new Set([...this.instances].map((i) => i.containerId)));
  }

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    await this.preparer.prepare(server, onProgress);
    await this.learnEra(server, onProgress);
  }

  /**
   * A stdio server version's era, probed once on a throwaway container (`server/discover`, else
   * `initialize`); HTTP-speaking packages are spoken to in the 2025 era. A probe that gives no
   * verdict is logged and leaves the 2025 default; the next prepare of the version tries again.
   */
  private async learnEra(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    if (this.eras.has(server.hash) || this.closed) return;
    let resolved: ResolvedContainer;
    try {
      resolved = this.resolve(server);
    } catch {
      return; // a call fails with the same reason, in place (SECRET_MISSING and the like)
    }
    if (resolved.pkg.transport.type !== "stdio") return;
    let probe = this.probing.get(server.hash);
    if (!probe) {
      probe = this.probeEra(resolved).finally(() => this.probing.delete(server.hash));
      this.probing.set(server.hash, probe);
    }
    await probe;
    const era = this.eras.get(server.hash);
    if (era) onProgress?.(`${server.prefix} speaks ${era.kind === "modern" ? "2026-07-28 (its containers get no initialize)" : "a 2025 revision (initialize)"}`);
  }

  private async probeEra(resolved: ResolvedContainer): Promise<void> {
    const server = resolved.server;
    try {
      const release = await this.slots.acquire(server.hash, concurrencyOf(server), server.prefix);
      this.probesRun += 1;
      const era = await this.runner.probe(resolved, release);
      if (!this.eras.has(server.hash)) this.eras.set(server.hash, era);
      this.logger.debug({ server: server.prefix, era: era.kind }, "protocol era probed");
    } catch (error) {
      this.logger.warn({ server: server.prefix, err: (error as Error).message }, "could not learn the server's protocol era: its containers are initialized as 2025 ones");
    }
  }

  /** Era probes run so far (tests: a version is probed once). */
  get eraProbes(): number {
    return this.probesRun;
  }

  eraOf(server: RegistryServer): KnownEra | undefined {
    return this.eras.get(server.hash);
  }

  adoptEra(server: RegistryServer, era: KnownEra): void {
    if (!this.eras.has(server.hash)) this.eras.set(server.hash, era);
  }

  /** The image a prepared server version starts from, if it is prepared. */
  preparedImage(server: RegistryServer): string | undefined {
    return this.preparer.peek(server)?.image;
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    // Fail fast, before any container: resolves secrets and arguments (throws SECRET_MISSING etc.).
    // The container this call starts, if any, is made from this same resolution.
    const resolved = this.resolve(server);
    if (!this.servers.has(server.hash)) this.servers.set(server.hash, { server, started: 0 });
    if (lifecycleOf(server) === "per-call") return this.acquirePerCall(resolved, opts.signal);
    return this.acquireKept(resolved, opts);
  }

  async endSession(sessionId: string): Promise<void> {
    await this.kept.endSession(sessionId);
  }

  async retire(server: RegistryServer): Promise<void> {
    this.warm.retire(server);
    await this.kept.retire(server);
  }

  stats(): LauncherStats {
    return {
      containers: this.slots.inUse,
      maxContainers: this.slots.max,
      queued: this.slots.queued,
      started: this.startedTotal,
      poolHits: this.poolHits,
      poolMisses: this.poolMisses,
      servers: [...this.servers.values()].map(({ server, started }) => ({
        prefix: server.prefix,
        revision: server.hash,
        running: this.slots.count(server.hash),
        ...this.warm.stats(server),
        started,
      })),
    };
  }

  /** Resolves once the warm pool of a per-call server holds at least `n` containers (tests, benchmarks). */
  async waitWarm(server: RegistryServer, n = 1, timeout = 30_000): Promise<void> {
    await this.warm.waitWarm(server, n, timeout);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.slots.close();
    this.warm.close();
    await this.kept.close();
    for (const instance of this.instances) this.destroy(instance, "launcher closed");
    // Starts still in flight destroy themselves when they see `closed`; wait for every removal.
    while (this.remover.pending > 0 || this.slots.inUse > 0) {
      await this.remover.settled();
      if (this.slots.inUse > 0 && this.remover.pending === 0) await new Promise((r) => setTimeout(r, 20));
    }
    await this.egress.close();
  }

  // ---- lifecycles -------------------------------------------------------------------------

  private async acquirePerCall(resolved: ResolvedContainer, signal?: AbortSignal): Promise<Lease> {
    const server = resolved.server;
    const waitStart = performance.now();
    let warm = await this.warm.takeOrWait(server, signal);
    if (warm && warm.client.era !== (this.connectEra(server, "per-call", undefined)?.kind ?? "legacy")) {
      // Warmed before its server's verdict was dropped (healEra): connected in an era it no longer speaks.
      this.destroy(warm, "connected in an era its server no longer speaks");
      warm = undefined;
    }
    if (signal?.aborted) {
      if (warm) this.destroy(warm, "call cancelled while waiting");
      throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled`, "Nothing to do: the client cancelled the request.");
    }
    if (warm) {
      this.poolHits += 1;
      return this.lease(warm, { queueMs: performance.now() - waitStart, startMs: 0, warm: true });
    }
    this.poolMisses += 1;
    const t0 = performance.now();
    const release = await this.slots.acquire(server.hash, concurrencyOf(server), server.prefix, signal);
    const queueMs = performance.now() - t0;
    this.warm.fill(server);
    const started = await this.start(resolved, release, "per-call", undefined, signal);
    return this.lease(started, { queueMs, startMs: started.startMs, warm: false });
  }

  private async acquireKept(resolved: ResolvedContainer, opts: AcquireOptions): Promise<Lease> {
    const server = resolved.server;
    const t0 = performance.now();
    const held = await this.kept.acquire(server, opts.sessionId, async () => {
      const release = await this.slots.acquire(server.hash, concurrencyOf(server), server.prefix, opts.signal);
      return this.start(resolved, release, lifecycleOf(server), opts.era, opts.signal);
    });
    const instance = held.instance;
    const total = performance.now() - t0;
    const timings = held.reused ? { queueMs: 0, startMs: 0, warm: true } : { queueMs: Math.max(0, total - instance.startMs), startMs: instance.startMs, warm: false };
    return this.lease(instance, timings, held.release);
  }

  /** A per-call lease (one request; the container is destroyed on release) or a kept one (`release` gives it back). */
  private lease(instance: Instance, timings: LeaseTimings, release?: () => void): Lease {
    const perCall = release === undefined;
    const call = { limitMs: timeoutMs(instance.server, this.defaults), perCall, kill: (why: string) => this.destroy(instance, why) };
    const client = instance.client;
    return guardedLease({
      client,
      containerId: instance.containerId,
      timings,
      run: (fn, signal) =>
        containerCall(instance, call, (_, s) => fn(client, s), signal).catch((error: unknown) => {
          if (client.era === "modern") this.healEra(instance.server, error);
          throw error;
        }),
      release: release ?? (() => this.destroy(instance, "call done")),
      ...(perCall ? { singleUse: `a per-call container of ${instance.server.prefix} serves exactly one request` } : {}),
    });
  }

  // ---- containers -------------------------------------------------------------------------

  private resolve(server: RegistryServer): ResolvedContainer {
    return resolveContainer(server, { secrets: this.options.secrets, defaults: this.defaults });
  }

  /**
   * The era a new container is connected in (undefined: initialize, 2025). A per-call one follows
   * the verdict. A kept one of a server that also speaks 2025 stays 2025 for a 2025 caller, and
   * when shared (any caller may be one): its resource subscriptions and mid-call questions work as
   * before, and it is initialized once, off the calls' path.
   */
  private connectEra(server: RegistryServer, lifecycle: Lifecycle, caller: UpstreamEra | undefined): KnownEra | undefined {
    const era = this.eras.get(server.hash);
    if (era?.kind !== "modern") return undefined;
    if (lifecycle !== "per-call" && advertisesLegacy(era.discover) && (lifecycle === "shared" || caller !== "modern")) return undefined;
    return era;
  }

  /**
   * A 2026 container that answers UnsupportedProtocolVersion no longer speaks its verdict's era (an
   * image retagged under the same version): the verdict and the warm containers made from it go;
   * later containers are initialized, which negotiates.
   */
  private healEra(server: RegistryServer, error: unknown): void {
    if ((error as { code?: unknown }).code !== UNSUPPORTED_PROTOCOL_VERSION || !this.eras.has(server.hash)) return;
    this.eras.delete(server.hash);
    this.warm.retire(server);
    this.logger.warn({ server: server.prefix }, "the server refused the 2026-07-28 protocol version its probe found: its containers are initialized from now on");
  }

  /** Starts a container and tracks it. Holds `release` until the container is removed. */
  private async start(resolved: ResolvedContainer, release: () => void, lifecycle: Lifecycle, caller?: UpstreamEra, signal?: AbortSignal): Promise<Instance> {
    const server = resolved.server;
    const running = await this.runner.start(resolved, release, signal, this.connectEra(server, lifecycle, caller));
    const instance: Instance = { ...running, release, exitCode: undefined, destroyed: false };
    this.warm.observeStart(server, instance.startMs);
    const counts = this.servers.get(server.hash) ?? { server, started: 0 };
    this.servers.set(server.hash, counts);
    counts.started += 1;
    this.startedTotal += 1;
    this.instances.add(instance);
    void instance.exited.then((code) => {
      instance.exitCode = code;
      this.warm.exited(server, instance);
    });
    this.logger.debug({ server: server.prefix, container: instance.containerId.slice(0, 12), startMs: Math.round(instance.startMs) }, "container started");
    if (this.closed) {
      this.destroy(instance, "launcher closed");
      throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    }
    return instance;
  }

  /** Kills and removes a container off the caller's path. Idempotent. */
  private destroy(instance: Instance, why: string): void {
    if (instance.destroyed) return;
    instance.destroyed = true;
    this.instances.delete(instance);
    const tail = instance.transport.stderrTail();
    if (tail) this.logger.debug({ server: instance.server.prefix, container: instance.containerId.slice(0, 12), stderr: scrubSecrets(tail.slice(-2048), instance.secretValues) }, "container stderr");
    this.logger.debug({ server: instance.server.prefix, container: instance.containerId.slice(0, 12), why }, "removing container");
    void instance.closeClient().catch(() => undefined);
    this.remover.remove(instance.container, instance.release);
  }
}

export function newOwnerId(): string {
  return randomUUID().slice(0, 8);
}
