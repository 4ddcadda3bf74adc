/**
 * Starts ONE container of a server and hands back a connected MCP client on it and a promise of
 * its exit. The client is initialized (2025) unless the version's era is known to be 2026-07-28 and
 * it speaks stdio: then the SDK v2 client is connected from the kept `server/discover` answer and
 * nothing is sent before the first request. Also learns that era, once per version, on a throwaway
 * container (`probe`). The container's create options come from the server's resolved spec (built
 * once per call, by the launcher) placed on its prepared image and network. A failed start removes
 * what it created and says why, scrubbed of secrets.
 */
import { PassThrough } from "node:stream";
import type { Duplex } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Transport as ModernTransport } from "@modelcontextprotocol/client";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { LaunchError } from "../errors.js";
import type { KnownEra, UpstreamClient } from "../launcher.js";
import { legacyUpstreamClient } from "../legacy-upstream-client.js";
import { connectModernStream, probeStreamEra } from "../modern-upstream-client.js";
import { scrubSecrets } from "../../secrets/secret-scrubber.js";
import type { ContainerRemover } from "./container-remover.js";
import type { ContainerSpec, ResolvedContainer } from "./container-spec.js";
import { INTERNAL_NETWORK, LABELS, placeContainer, proxiedEgress } from "./container-spec.js";
import type { ResourceDefaults } from "../limits.js";
import { timeoutMs } from "../limits.js";
import { ContainerTransport } from "./container-transport.js";
import type { EgressRelay } from "./egress-relay.js";
import { EGRESS_NETWORK } from "./egress-relay.js";
import { containerAddress, ensureInternalNetwork, packageEndpoint, waitForPort } from "./http-endpoint.js";
import type { PackagePreparer } from "./package-preparer.js";
import { IMPLEMENTATION } from "../../version.js";

export interface ContainerRunnerOptions {
  docker: Docker;
  logger: Logger;
  /** Owner label value of every container started. */
  owner: string;
  preparer: PackagePreparer;
  egress: EgressRelay;
  remover: ContainerRemover;
  defaults: ResourceDefaults;
  /** Bound on container start + MCP initialize (default 30 s). */
  startTimeoutMs?: number;
  /** Bytes of stderr kept per container (default 16 KiB). */
  stderrLimit?: number;
  clientInfo?: { name: string; version: string };
}

/** A container created, attached and started; nothing spoken on it yet. */
interface Booted {
  readonly spec: ContainerSpec;
  readonly container: Docker.Container;
  readonly logs: ContainerTransport;
  readonly exited: Promise<number | null>;
}

/** What a boot has made so far (what a failure removes). */
type Booting = { -readonly [K in "spec" | "container" | "logs"]?: Booted[K] };

/** A started container with a connected MCP client. */
export interface RunningContainer {
  readonly server: RegistryServer;
  readonly containerId: string;
  readonly container: Docker.Container;
  /** Initialized (2025), or connected from a kept 2026 verdict (nothing sent yet). */
  readonly client: UpstreamClient;
  readonly closeClient: () => Promise<void>;
  readonly transport: ContainerTransport;
  /** Resolves with the exit code (null if unknown) when the container stops. */
  readonly exited: Promise<number | null>;
  readonly startMs: number;
  /** Secret values it was given, for scrubbing its output. Never log this. */
  readonly secretValues: string[];
}

export class ContainerRunner {
  private internalNetwork: Promise<void> | undefined;

  constructor(private readonly options: ContainerRunnerOptions) {}

  /**
   * Starts a container from the resolved spec and connects MCP to it: from the kept 2026 verdict
   * (`era`, stdio only: nothing is sent), else with initialize. If the start fails, the container is
   * removed and then `release` is called; on success the caller holds `release`.
   */
  async start(resolved: ResolvedContainer, release: () => void, signal?: AbortSignal, era?: KnownEra): Promise<RunningContainer> {
    const server = resolved.server;
    const t0 = performance.now();
    const booting: Booting = {};
    try {
      const { spec, container, logs, exited } = await this.boot(resolved, booting);
      const connected =
        era?.kind === "modern" && resolved.pkg.transport.type === "stdio"
          ? await connectModernStream(logs as unknown as ModernTransport, era.discover, this.options.clientInfo).then((modern) => ({ client: modern as UpstreamClient, closeClient: () => modern.close() }))
          : await this.initialize(resolved, spec, container, logs, exited, signal).then((legacy) => ({ client: legacyUpstreamClient(legacy), closeClient: () => legacy.close() }));
      return { server, containerId: container.id, container, ...connected, transport: logs, exited, startMs: performance.now() - t0, secretValues: spec.secretValues };
    } catch (error) {
      throw this.failed(resolved, error, booting, release, signal);
    }
  }

  /**
   * The era of a stdio server's version, learnt in place on a throwaway container (`server/discover`,
   * else `initialize`), which is removed before this resolves; `release` is called once it is.
   * Rejects when the container gives no verdict (it crashed, or answered neither).
   */
  async probe(resolved: ResolvedContainer, release: () => void): Promise<KnownEra> {
    const booting: Booting = {};
    try {
      const booted = await this.boot(resolved, booting);
      const limitMs = Math.min(this.options.startTimeoutMs ?? 30_000, timeoutMs(resolved.server, this.options.defaults));
      const crash = booted.exited.then((code) => {
        throw new Error(`it exited with code ${code ?? "unknown"} before answering`);
      });
      crash.catch(() => undefined);
      const era = await Promise.race([probeStreamEra(booted.logs as unknown as ModernTransport, { timeoutMs: limitMs, ...(this.options.clientInfo ? { clientInfo: this.options.clientInfo } : {}) }), crash]);
      this.options.remover.remove(booted.container, release);
      return era;
    } catch (error) {
      throw this.failed(resolved, error, booting, release);
    }
  }

  /**
   * Creates, attaches and starts a container; its stdio (or, for an HTTP package, its logs) on a
   * ContainerTransport. Fills `booting` as it goes, so a failure knows what to remove.
   */
  private async boot(resolved: ResolvedContainer, booting: Booting): Promise<Booted> {
    const { docker } = this.options;
    const spec = (booting.spec = await this.place(resolved));
    for (const warning of spec.warnings) this.options.logger.warn({ server: resolved.server.prefix }, warning);
    if (spec.create.HostConfig?.NetworkMode === INTERNAL_NETWORK) await this.ensureInternalNetwork();
    const container = (booting.container = await docker.createContainer(spec.create));
    const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(stream, stdout, stderr);
    const endBoth = (): void => {
      stdout.end();
      stderr.end();
    };
    stream.on("end", endBoth);
    stream.on("close", endBoth);
    stream.on("error", endBoth);
    const logs = (booting.logs = new ContainerTransport({ stdin: stream, stdout, stderr, stderrLimit: this.options.stderrLimit ?? 16 * 1024 }));
    await container.start();
    const exited = container.wait().then(
      (r: { StatusCode?: number }) => (typeof r?.StatusCode === "number" ? r.StatusCode : null),
      () => null,
    );
    return { spec, container, logs, exited };
  }

  /** A failed start or probe: removes what it created (then `release`), and says why, scrubbed of secrets. */
  private failed(resolved: ResolvedContainer, error: unknown, booting: Booting, release: () => void, signal?: AbortSignal): LaunchError {
    const server = resolved.server;
    if (booting.container) this.options.remover.remove(booting.container, release);
    else release();
    if (error instanceof LaunchError) return error;
    if (signal?.aborted) return new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled while its container started`, "Nothing to do: the client cancelled the request.");
    const secretValues = booting.spec?.secretValues ?? [];
    const detail = booting.logs ? booting.logs.stderrLines(5).map((l) => scrubSecrets(l, secretValues)).join(" | ") : "";
    return new LaunchError(
      "CONTAINER_START_FAILED",
      `could not start ${server.prefix}: ${scrubSecrets((error as Error).message, secretValues)}${detail ? `; stderr: ${detail}` : ""}`,
      "Check that the Docker engine is running and the server's image is prepared (`mcp-router tools <server>` shows progress).",
      { cause: error },
    );
  }

  /** The create options: the resolved spec on the prepared image, with an egress route for an allowlist. */
  private async place(resolved: ResolvedContainer): Promise<ContainerSpec> {
    const server = resolved.server;
    const prepared = await this.options.preparer.prepare(server);
    const allow = proxiedEgress(server);
    const stdio = resolved.pkg.transport.type === "stdio";
    // The relay of an HTTP-speaking server joins the internal network: it must exist first.
    if (allow && !stdio) await this.ensureInternalNetwork();
    const egress = allow ? await this.options.egress.route(server, allow, stdio ? EGRESS_NETWORK : INTERNAL_NETWORK) : undefined;
    return placeContainer(resolved, { image: prepared.image, owner: this.options.owner, ...(prepared.entrypoint ? { entrypoint: prepared.entrypoint } : {}), ...(egress ? { egress } : {}) });
  }

  /** MCP initialize over stdio, or over HTTP once the server listens; bounded by the start timeout and the server's own. */
  private async initialize(
    resolved: ResolvedContainer,
    spec: ContainerSpec,
    container: Docker.Container,
    transport: ContainerTransport,
    exited: Promise<number | null>,
    signal?: AbortSignal,
  ): Promise<Client> {
    const { server, pkg } = resolved;
    const client = new Client(this.options.clientInfo ?? { ...IMPLEMENTATION }, {
      capabilities: { sampling: {}, elicitation: {} },
    });
    // Starting counts against the server's own time limit too: a server that never answers
    // initialize fails its call within that limit.
    const startTimeout = Math.min(this.options.startTimeoutMs ?? 30_000, timeoutMs(server, this.options.defaults));
    const initCrash = exited.then((code) => {
      throw new LaunchError(
        "CONTAINER_START_FAILED",
        `the container of ${server.prefix} exited with code ${code ?? "unknown"} before MCP initialization finished; last stderr lines:\n${transport
          .stderrLines(10)
          .map((l) => scrubSecrets(l, spec.secretValues))
          .join("\n")}`,
        "Check the server's package, arguments and env in the registry file; run `mcp-router tools <server>` to see its output.",
      );
    });
    initCrash.catch(() => undefined);
    let mcpTransport: Transport = transport;
    if (pkg.transport.type !== "stdio") {
      // The server speaks HTTP on its own address; the attached streams only carry its logs.
      await transport.start();
      const url = packageEndpoint(pkg, spec.create.Env ?? [], await containerAddress(container));
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
    return client;
  }

  private ensureInternalNetwork(): Promise<void> {
    this.internalNetwork ??= ensureInternalNetwork(this.options.docker, INTERNAL_NETWORK, { [LABELS.managed]: "true" }).catch((error: unknown) => {
      this.internalNetwork = undefined;
      throw error;
    });
    return this.internalNetwork;
  }
}
