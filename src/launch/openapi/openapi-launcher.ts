/**
 * The Launcher for `router.openapi` servers: no container, the REST API's operations served as
 * tools by an in-process MCP server. `prepare` loads and compiles the OpenAPI document once per
 * server version; each lease links a fresh SDK Client to a fresh in-process Server through the
 * SDK's in-memory transport pair, so the gateway talks to it like to any other server.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { RegistryServer } from "../../registry/types.js";
import { callLimit } from "../call-limit.js";
import { LaunchError } from "../errors.js";
import type { AcquireOptions, Launcher, LauncherStats, Lease, UpstreamClient } from "../launcher.js";
import { legacyUpstreamClient } from "../legacy-upstream-client.js";
import { authConfigProblem } from "./openapi-auth.js";
import type { HttpLimits } from "./openapi-http.js";
import { createOpenApiMcpServer } from "./openapi-mcp-server.js";
import { loadOpenApiSpec, OpenApiSpecError } from "./openapi-spec.js";
import type { CompiledApi } from "./openapi-tools.js";
import { compileOpenApi } from "./openapi-tools.js";
import type { SecretSource } from "../../secrets/secret-source.js";
import { IMPLEMENTATION } from "../../version.js";

export const DEFAULT_OPENAPI_TIMEOUT_SECONDS = 30;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** A lease's run outlives the HTTP timeout by this much, so the API's timeout is what callers see. */
const RUN_GRACE_MS = 5_000;

export interface OpenApiLauncherOptions {
  secrets: SecretSource;
  logger: Logger;
  /** undici dispatcher for the spec download and the API calls (default: undici's global one). */
  dispatcher?: Dispatcher;
  clientInfo?: { name: string; version: string };
}

interface Prepared {
  server: RegistryServer;
  api: CompiledApi;
  limits: HttpLimits;
  active: number;
  started: number;
}

/** Runs `router.openapi` servers in-process; see the file comment. */
export class OpenApiLauncher implements Launcher {
  private readonly prepared = new Map<string, Promise<Prepared>>();
  private readonly settled = new Map<string, Prepared>();
  private readonly clients = new Set<Client>();
  private closed = false;
  private startedTotal = 0;

  constructor(private readonly options: OpenApiLauncherOptions) {}

  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    const prepared = await this.load(server);
    onProgress?.(`${prepared.api.operations.length} of ${prepared.api.total} operations of the OpenAPI document became tools`);
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    if (opts.signal?.aborted) throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled`, "Nothing to do: the client cancelled the request.");
    const prepared = await this.load(server);
    const mcp = createOpenApiMcpServer({
      server,
      api: prepared.api,
      secrets: this.options.secrets,
      logger: this.options.logger,
      limits: prepared.limits,
      ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
    });
    const client = new Client(this.options.clientInfo ?? { ...IMPLEMENTATION }, { capabilities: { sampling: {}, elicitation: {} } });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverSide);
    await client.connect(clientSide);
    this.clients.add(client);
    prepared.active += 1;
    prepared.started += 1;
    this.startedTotal += 1;
    let released = false;
    const runLimitMs = prepared.limits.timeoutMs + RUN_GRACE_MS;
    const upstream = legacyUpstreamClient(client);
    return {
      client: upstream,
      containerId: undefined,
      timings: { queueMs: 0, startMs: 0, warm: true },
      run: <T>(fn: (c: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> => {
        if (released) return Promise.reject(new LaunchError("ABORTED", "the lease was already released", "Acquire a new lease for each call."));
        return runLimited(server.prefix, runLimitMs, (s) => fn(upstream, s), signal);
      },
      release: (): void => {
        if (released) return;
        released = true;
        prepared.active -= 1;
        this.clients.delete(client);
        void client.close().catch(() => undefined);
      },
    };
  }

  async endSession(_sessionId: string): Promise<void> {
    // Nothing is kept per session: every lease has its own in-process server.
  }

  async retire(server: RegistryServer): Promise<void> {
    // Leases in flight keep their compiled API; new ones compile the new version.
    this.prepared.delete(server.hash);
    this.settled.delete(server.hash);
  }

  stats(): LauncherStats {
    return {
      containers: 0,
      maxContainers: 0,
      queued: 0,
      started: this.startedTotal,
      poolHits: 0,
      poolMisses: 0,
      servers: [...this.settled.values()].map((p) => ({ prefix: p.server.prefix, revision: p.server.hash, running: p.active, warm: 0, warming: 0, poolTarget: 0, started: p.started })),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.clients].map((c) => c.close().catch(() => undefined)));
    this.clients.clear();
  }

  /** The compiled API of a server version, loaded once (a failure is retried on the next call). */
  private load(server: RegistryServer): Promise<Prepared> {
    let pending = this.prepared.get(server.hash);
    if (!pending) {
      pending = this.compile(server);
      this.prepared.set(server.hash, pending);
      pending.then(
        (p) => {
          if (this.prepared.get(server.hash) === pending) this.settled.set(server.hash, p);
        },
        () => {
          if (this.prepared.get(server.hash) === pending) this.prepared.delete(server.hash);
        },
      );
    }
    return pending;
  }

  private async compile(server: RegistryServer): Promise<Prepared> {
    const config = server.entry.router?.openapi;
    const log = this.options.logger.child({ server: server.prefix });
    try {
      if (!config) throw new OpenApiSpecError("the server has no router.openapi block", "Route only `router.openapi` servers to the OpenAPI launcher.");
      const problem = authConfigProblem(config.auth);
      if (problem) throw new OpenApiSpecError(problem, "Fix router.openapi.auth in the registry file.");
      const spec = await loadOpenApiSpec(server, this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {});
      const api = compileOpenApi(spec, config);
      const timeoutSeconds = config.timeoutSeconds ?? server.entry.router?.limits?.timeoutSeconds ?? DEFAULT_OPENAPI_TIMEOUT_SECONDS;
      const limits: HttpLimits = { timeoutMs: timeoutSeconds * 1000, maxResponseBytes: config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES };
      if (api.operations.length === 0) log.warn({ operations: api.total, spec: spec.source }, "no operation of the OpenAPI document is selected: check router.openapi.include/exclude");
      log.info({ tools: api.operations.length, operations: api.total, spec: spec.source }, "OpenAPI document compiled");
      return { server, api, limits, active: 0, started: 0 };
    } catch (error) {
      if (error instanceof OpenApiSpecError) {
        throw new LaunchError("PREPARE_FAILED", `${server.prefix} (${server.file}): ${error.message}`, error.hint, { cause: error });
      }
      throw error;
    }
  }
}

/** Runs `fn` with a timeout and the caller's abort signal, as LaunchErrors like every launcher's. */
async function runLimited<T>(prefix: string, limitMs: number, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const limit = callLimit({
    limitMs,
    signal,
    error: (why) =>
      why === "timeout"
        ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s`, "Raise router.openapi.timeoutSeconds if the API needs longer.")
        : new LaunchError("ABORTED", `the call to ${prefix} was cancelled`, "Nothing to do: the client cancelled the request."),
  });
  try {
    return await Promise.race([fn(limit.signal), limit.stopped]);
  } finally {
    limit.dispose();
  }
}
