/**
 * Remote-only servers (`remotes[]`, no `packages`): proxied over Streamable HTTP or SSE with the
 * same passthrough as local ones. One upstream MCP session per (server version, client session),
 * opened on first use and kept for that session's later calls; closed when the client session
 * ends, when the version is retired, after an idle time, and on close. If the upstream restarted
 * (connection refused, or its session rejected as unknown), the session is reopened and the
 * request sent once more, but only when it cannot have run upstream.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport, SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import type { ResourceDefaults } from "../docker/container-spec.js";
import { DEFAULT_RESOURCES, timeoutMs } from "../docker/container-spec.js";
import { callLimit } from "../call-limit.js";
import { LaunchError } from "../errors.js";
import { guardedLease } from "../guarded-lease.js";
import type { AcquireOptions, Launcher, LauncherStats, Lease, ServerStats } from "../launcher.js";
import type { RemoteTarget } from "./remote-target.js";
import { classifyFailure, describeFailure, remoteTarget } from "./remote-target.js";
import type { SecretSource } from "../secrets.js";
import { SessionPool } from "../session-pool.js";

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
}

type RemoteTransport = StreamableHTTPClientTransport | SSEClientTransport;

/** One upstream session. The Client object stays across reconnects, so handlers set on it stay. */
interface Connection {
  readonly server: RegistryServer;
  readonly key: string;
  readonly client: Client;
  transport: RemoteTransport | undefined;
  /** Sends (HTTP POSTs) of the current transport still in flight. */
  sends: Set<Promise<unknown>>;
  /** The previous transport being closed; a reconnect waits for it. */
  dropping: Promise<void> | undefined;
  /** Counts (re)connects: a failure only invalidates the transport it happened on. */
  generation: number;
  connecting: Promise<void> | undefined;
  target: RemoteTarget | undefined;
  startMs: number;
  /** Requests in flight. */
  running: number;
  closed: boolean;
}

interface ServerState {
  server: RegistryServer;
  /** Established, not yet closed. */
  open: Set<Connection>;
  /** Upstream sessions opened (each initialize) for this version. */
  opened: number;
}

const TERMINATE_WAIT_MS = 2_000;
/** How long a dropped transport's in-flight sends may take to settle before it is closed. */
const SEND_SETTLE_MS = 2_000;

/** The Launcher for remote-only servers. Containers: none. */
export class RemoteLauncher implements Launcher {
  private readonly logger: Logger;
  private readonly defaults: ResourceDefaults;
  private readonly states = new Map<string, ServerState>();
  private readonly closing = new Set<Promise<void>>();
  /** Upstream sessions by (server version, client session); a shared server's idle session expires too. */
  private readonly sessions: SessionPool<Connection>;
  private closed = false;

  constructor(private readonly options: RemoteLauncherOptions) {
    this.logger = options.logger.child({ component: "remote" });
    this.defaults = options.defaults ?? DEFAULT_RESOURCES;
    this.sessions = new SessionPool<Connection>({
      alive: (connection) => !connection.closed,
      close: (connection, why) => this.closeConnection(connection, why),
      idleMs: options.sessionIdleMs ?? 600_000,
      expireShared: true,
    });
  }

  /** Resolves URL and headers (a missing secret fails here, by name) and checks the upstream answers initialize. */
  async prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void> {
    const target = remoteTarget(server, this.options.secrets);
    onProgress?.(`checking that ${target.display} (${target.type}) answers MCP initialize`);
    const client = this.newClient();
    const transport = this.newTransport(target);
    try {
      await this.connectWithin(client, transport);
      this.logger.debug({ server: server.prefix, url: target.display, upstream: client.getServerVersion()?.name }, "remote answers");
    } catch (error) {
      throw new LaunchError(
        "PREPARE_FAILED",
        `remote server ${server.prefix} at ${target.display} (${target.type}) did not answer MCP initialize: ${describeFailure(error, target.secretValues)}`,
        "Check the url and transport type in the registry file, that the server is up and reachable from the daemon, and that its header secrets are right.",
      );
    } finally {
      await this.shutdown(client, transport);
    }
  }

  async acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease> {
    if (this.closed) throw new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
    // Fail fast, before connecting: resolves URL and headers (throws SECRET_MISSING etc.).
    remoteTarget(server, this.options.secrets);
    const t0 = performance.now();
    const held = await this.sessions.acquire(server, opts.sessionId, (key) => this.openConnection(server, key, opts.signal));
    const connection = held.instance;
    try {
      // A session whose transport was dropped reconnects here, so a down upstream fails at acquire.
      await this.ensureConnected(connection, opts.signal);
    } catch (error) {
      held.release();
      throw error;
    }
    const reused = held.reused;
    return guardedLease({
      client: connection.client,
      containerId: undefined,
      timings: { queueMs: reused ? 0 : Math.max(0, performance.now() - t0 - connection.startMs), startMs: reused ? 0 : connection.startMs, warm: reused },
      run: (fn, signal) => this.run(connection, fn, signal),
      release: held.release,
    });
  }

  async endSession(sessionId: string): Promise<void> {
    await this.sessions.endSession(sessionId);
  }

  async retire(server: RegistryServer): Promise<void> {
    await this.sessions.retire(server);
    const state = this.states.get(server.hash);
    if (state) this.forgetIfEmpty(state);
  }

  stats(): LauncherStats {
    const servers: ServerStats[] = [...this.states.values()].map((s) => ({
      prefix: s.server.prefix,
      revision: s.server.hash,
      running: s.open.size,
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
    const ends: Array<Promise<void>> = [];
    for (const state of this.states.values()) for (const connection of state.open) ends.push(this.closeConnection(connection, "launcher closed"));
    await Promise.all(ends);
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  // ---- requests ---------------------------------------------------------------------------

  private async run<T>(connection: Connection, fn: (client: Client, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const prefix = connection.server.prefix;
    const limitMs = timeoutMs(connection.server, this.defaults);
    // The SDK sends notifications/cancelled upstream for a request whose signal aborts.
    const limit = callLimit({
      limitMs,
      signal,
      error: (why) =>
        why === "timeout"
          ? new LaunchError("TIMEOUT", `the call to ${prefix} timed out after ${limitMs / 1000} s; the remote server was told to cancel it`, "Raise router.limits.timeoutSeconds if the tool needs longer.")
          : new LaunchError("ABORTED", `the call to ${prefix} was cancelled; the remote server was told to cancel it`, "Nothing to do: the client cancelled the request."),
    });
    const stopped = limit.stopped;
    connection.running += 1;
    try {
      for (let attempt = 1; ; attempt++) {
        await Promise.race([this.ensureConnected(connection, limit.signal), stopped]);
        const generation = connection.generation;
        try {
          return await Promise.race([fn(connection.client, limit.signal), stopped]);
        } catch (error) {
          if (limit.error) throw limit.error;
          if (error instanceof LaunchError) throw error;
          const failure = classifyFailure(error);
          if (failure === "answer") throw error;
          const target = connection.target;
          const url = target?.display ?? "its url";
          const reason = describeFailure(error, target?.secretValues ?? []);
          if (failure === "http") {
            throw new LaunchError(
              "UPSTREAM_REFUSED",
              `the remote server ${prefix} at ${url} refused the request: ${reason}`,
              "Check the server's header secrets (401/403) or its health (5xx); the request was not retried.",
            );
          }
          this.invalidate(connection, generation, failure);
          if (failure === "lost") {
            throw new LaunchError(
              "UPSTREAM_GONE",
              `the connection to the remote server ${prefix} at ${url} was lost during the call (${reason}); it was not retried because it may have run`,
              "Retry the call if it is safe to repeat; the next call opens a new session.",
            );
          }
          if (attempt >= 2) {
            throw new LaunchError(
              "CONTAINER_START_FAILED",
              `the remote server ${prefix} at ${url} did not take the request after reconnecting: ${reason}`,
              "Check that the server is up and reachable from the daemon; the next call tries again.",
            );
          }
          this.logger.info({ server: prefix, url, failure }, "upstream restarted or unreachable; reconnecting and sending the request once more");
        }
      }
    } finally {
      connection.running -= 1;
      limit.dispose();
    }
  }

  // ---- connections ------------------------------------------------------------------------

  private newClient(): Client {
    return new Client(this.options.clientInfo ?? { name: "mcp-router", version: "0.1.0" }, { capabilities: { sampling: {}, elicitation: {} } });
  }

  private newTransport(target: RemoteTarget): RemoteTransport {
    const requestInit: RequestInit = { headers: target.headers };
    if (target.type === "streamable-http") return new StreamableHTTPClientTransport(target.url, { requestInit });
    // The event stream's GET goes through its own fetch: give it the headers too.
    return new SSEClientTransport(target.url, {
      requestInit,
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...target.headers } }) },
    });
  }

  /** Connects and initializes within the connect timeout (an upstream that accepts but never answers must not hang us). */
  private async connectWithin(client: Client, transport: RemoteTransport, signal?: AbortSignal): Promise<void> {
    const limit = this.options.connectTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${limit / 1000} s`)), limit);
    });
    const connected = client.connect(transport, { timeout: limit, ...(signal ? { signal } : {}) });
    connected.catch(() => undefined);
    try {
      await Promise.race([connected, late]);
    } catch (error) {
      // A transport that failed in start() stays attached to the client: detach it so the client can connect again.
      await client.close().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async openConnection(server: RegistryServer, key: string, signal?: AbortSignal): Promise<Connection> {
    const connection: Connection = {
      server,
      key,
      client: this.newClient(),
      transport: undefined,
      sends: new Set(),
      dropping: undefined,
      generation: 0,
      connecting: undefined,
      target: undefined,
      startMs: 0,
      running: 0,
      closed: false,
    };
    const t0 = performance.now();
    await this.ensureConnected(connection, signal);
    connection.startMs = performance.now() - t0;
    return connection;
  }

  /** Makes sure the connection has a live transport, reconnecting (one attempt, shared by concurrent callers) if not. */
  private async ensureConnected(connection: Connection, signal?: AbortSignal): Promise<void> {
    while (!connection.transport) {
      if (connection.closed) throw new LaunchError("ABORTED", `the session with ${connection.server.prefix} was closed`, "Retry the call: it opens a new session.");
      connection.connecting ??= this.connect(connection, signal).finally(() => {
        connection.connecting = undefined;
      });
      await connection.connecting;
    }
  }

  private async connect(connection: Connection, signal?: AbortSignal): Promise<void> {
    const server = connection.server;
    const state = this.state(server);
    const target = remoteTarget(server, this.options.secrets);
    if (connection.dropping) await connection.dropping;
    connection.target = target;
    const transport = this.newTransport(target);
    transport.onerror = (error) => this.transportError(connection, transport, error);
    const sends = new Set<Promise<unknown>>();
    connection.sends = sends;
    const send = transport.send.bind(transport) as Transport["send"];
    (transport as Transport).send = (message, options) => {
      const sent = send(message, options);
      const settled = sent.catch(() => undefined);
      sends.add(settled);
      void settled.then(() => sends.delete(settled));
      return sent;
    };
    try {
      await this.connectWithin(connection.client, transport, signal);
    } catch (error) {
      if (signal?.aborted) throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled while connecting to the remote server`, "Nothing to do: the client cancelled the request.");
      throw new LaunchError(
        "CONTAINER_START_FAILED",
        `cannot reach the remote server ${server.prefix} at ${target.display} (${target.type}): ${describeFailure(error, target.secretValues)}`,
        "Check that the server is up and reachable from the daemon, and its url and header secrets; the next call tries again.",
      );
    }
    if (connection.closed) {
      await this.shutdown(connection.client, transport);
      return;
    }
    connection.transport = transport;
    connection.generation += 1;
    state.opened += 1;
    state.open.add(connection);
    this.logger.debug(
      { server: server.prefix, url: target.display, session: connection.key.slice(0, 8), upstreamSession: transport instanceof StreamableHTTPClientTransport ? transport.sessionId : undefined },
      connection.generation > 1 ? "upstream session reopened" : "upstream session opened",
    );
  }

  /**
   * Transport errors after connecting. A lost event stream means the upstream went away (or the
   * network did): requests waiting on it would never be answered, so the transport is dropped,
   * they fail with a clear error, and the next call reconnects. A Streamable HTTP session with
   * nothing in flight is left as it is: its next request finds out (an upstream that restarted
   * rejects the old session, and the request is sent again on a new one).
   */
  private transportError(connection: Connection, transport: RemoteTransport, error: Error): void {
    if (connection.transport !== transport || connection.closed) return;
    const reason = describeFailure(error, connection.target?.secretValues ?? []);
    this.logger.debug({ server: connection.server.prefix, err: reason }, "upstream transport error");
    const streamLost = transport instanceof SSEClientTransport ? error instanceof SseError : error.message.startsWith("SSE stream disconnected");
    if (!streamLost) return;
    if (transport instanceof SSEClientTransport || connection.running > 0) this.invalidate(connection, connection.generation, "lost");
  }

  /**
   * Drops the transport a failure happened on (not a newer one): waiting requests reject, the next
   * request reconnects. Sends still in flight settle first, so a request whose POST was refused
   * fails as not delivered (and may be sent again) rather than as lost.
   */
  private invalidate(connection: Connection, generation: number, why: string): void {
    const transport = connection.transport;
    if (!transport || connection.generation !== generation) return;
    connection.transport = undefined;
    this.states.get(connection.server.hash)?.open.delete(connection);
    this.logger.debug({ server: connection.server.prefix, why }, "upstream transport dropped");
    const pending = [...connection.sends];
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, SEND_SETTLE_MS)))]);
    const dropping: Promise<void> = settled
      .then(() => connection.client.close())
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        if (connection.dropping === dropping) connection.dropping = undefined;
      });
    connection.dropping = dropping;
  }

  private closeConnection(connection: Connection, why: string): Promise<void> {
    if (connection.closed) return Promise.resolve();
    connection.closed = true;
    const state = this.states.get(connection.server.hash);
    state?.open.delete(connection);
    if (state) this.forgetIfEmpty(state);
    const transport = connection.transport;
    connection.transport = undefined;
    this.logger.debug({ server: connection.server.prefix, session: connection.key.slice(0, 8), why }, "closing upstream session");
    const done = (connection.dropping ?? Promise.resolve()).then(() => this.shutdown(connection.client, transport)).finally(() => this.closing.delete(done));
    this.closing.add(done);
    return done;
  }

  /** Ends the upstream session politely (DELETE for Streamable HTTP, bounded) and closes the client. */
  private async shutdown(client: Client, transport: RemoteTransport | undefined): Promise<void> {
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        transport.terminateSession().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, TERMINATE_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    await client.close().catch(() => undefined);
  }

  private state(server: RegistryServer): ServerState {
    let state = this.states.get(server.hash);
    if (!state) {
      state = { server, open: new Set(), opened: 0 };
      this.states.set(server.hash, state);
    }
    return state;
  }

  /** Forgets a retired version once its last session closed. */
  private forgetIfEmpty(state: ServerState): void {
    if (!this.sessions.tracks(state.server) && state.open.size === 0) this.states.delete(state.server.hash);
  }
}
