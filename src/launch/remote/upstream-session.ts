/**
 * One MCP session with a remote upstream over Streamable HTTP or SSE. The Client object stays
 * across reconnects, so handlers set on it stay. A transport that fails is dropped (only the one
 * the failure happened on) and the next request reconnects; closing ends the upstream session
 * politely (DELETE for Streamable HTTP, bounded).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport, SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Logger } from "pino";
import type { RegistryServer } from "../../registry/types.js";
import { LaunchError } from "../errors.js";
import type { SecretSource } from "../../secrets/secret-source.js";
import type { RemoteTarget } from "./remote-target.js";
import { describeFailure, remoteTarget } from "./remote-target.js";
import { IMPLEMENTATION } from "../../version.js";

export interface UpstreamOptions {
  logger: Logger;
  secrets: SecretSource;
  /** Bound on connecting and MCP initialize (default 30 s). */
  connectTimeoutMs?: number;
  clientInfo?: { name: string; version: string };
  /** The fetch every request to the upstream goes through (default: the global one); see `target-guard.ts`. */
  fetch?: typeof fetch;
}

export interface UpstreamSessionEvents {
  /** A transport was established (first connect or reconnect). */
  onConnected(session: UpstreamSession): void;
  /** The established transport went away (dropped), or the session closed. */
  onDisconnected(session: UpstreamSession): void;
}

type RemoteTransport = StreamableHTTPClientTransport | SSEClientTransport;

const TERMINATE_WAIT_MS = 2_000;
/** How long a dropped transport's in-flight sends may take to settle before it is closed. */
const SEND_SETTLE_MS = 2_000;

export class UpstreamSession {
  readonly client: Client;
  /** The target of the current (or last) transport: for messages, scrubbed. */
  target: RemoteTarget | undefined;
  /** Time the first connect took. */
  startMs = 0;
  /** Requests in flight. */
  running = 0;
  closed = false;
  private transport: RemoteTransport | undefined;
  /** Sends (HTTP POSTs) of the current transport still in flight. */
  private sends = new Set<Promise<unknown>>();
  /** The previous transport being closed; a reconnect waits for it. */
  private dropping: Promise<void> | undefined;
  /** Counts (re)connects: a failure only invalidates the transport it happened on. */
  private connects = 0;
  private connecting: Promise<void> | undefined;

  private constructor(
    readonly server: RegistryServer,
    /** The client session ("" for a shared server), for logs. */
    readonly key: string,
    private readonly options: UpstreamOptions,
    private readonly events: UpstreamSessionEvents,
  ) {
    this.client = newClient(options);
  }

  /** A connected session. */
  static async open(server: RegistryServer, key: string, options: UpstreamOptions, events: UpstreamSessionEvents, signal?: AbortSignal): Promise<UpstreamSession> {
    const session = new UpstreamSession(server, key, options, events);
    const t0 = performance.now();
    await session.ensureConnected(signal);
    session.startMs = performance.now() - t0;
    return session;
  }

  /** Connects to the target once and closes again: does it answer MCP initialize? Returns the upstream's name. */
  static async probe(target: RemoteTarget, options: UpstreamOptions): Promise<string | undefined> {
    const client = newClient(options);
    const transport = newTransport(target, options.fetch);
    try {
      await connectWithin(client, transport, options.connectTimeoutMs);
      return client.getServerVersion()?.name;
    } finally {
      await shutdown(client, transport);
    }
  }

  /** Which transport a request goes out on; pass it to `invalidate` if the request fails. */
  get generation(): number {
    return this.connects;
  }

  /** Makes sure the session has a live transport, reconnecting (one attempt, shared by concurrent callers) if not. */
  async ensureConnected(signal?: AbortSignal): Promise<void> {
    while (!this.transport) {
      if (this.closed) throw new LaunchError("ABORTED", `the session with ${this.server.prefix} was closed`, "Retry the call: it opens a new session.");
      this.connecting ??= this.connect(signal).finally(() => {
        this.connecting = undefined;
      });
      await this.connecting;
    }
  }

  /**
   * Drops the transport a failure happened on (not a newer one): waiting requests reject, the next
   * request reconnects. Sends still in flight settle first, so a request whose POST was refused
   * fails as not delivered (and may be sent again) rather than as lost.
   */
  invalidate(generation: number, why: string): void {
    const transport = this.transport;
    if (!transport || this.connects !== generation) return;
    this.transport = undefined;
    this.events.onDisconnected(this);
    this.options.logger.debug({ server: this.server.prefix, why }, "upstream transport dropped");
    const pending = [...this.sends];
    let timer: NodeJS.Timeout | undefined;
    const settled = Promise.race([Promise.all(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, SEND_SETTLE_MS)))]);
    const dropping: Promise<void> = settled
      .then(() => this.client.close())
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        if (this.dropping === dropping) this.dropping = undefined;
      });
    this.dropping = dropping;
  }

  /** Ends the session upstream and closes the client. Idempotent. */
  close(why: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const transport = this.transport;
    this.transport = undefined;
    this.events.onDisconnected(this);
    this.options.logger.debug({ server: this.server.prefix, session: this.key.slice(0, 8), why }, "closing upstream session");
    return (this.dropping ?? Promise.resolve()).then(() => shutdown(this.client, transport));
  }

  private async connect(signal?: AbortSignal): Promise<void> {
    const server = this.server;
    const target = remoteTarget(server, this.options.secrets);
    if (this.dropping) await this.dropping;
    this.target = target;
    const transport = newTransport(target, this.options.fetch);
    transport.onerror = (error) => this.transportError(transport, error);
    const sends = new Set<Promise<unknown>>();
    this.sends = sends;
    const send = transport.send.bind(transport) as Transport["send"];
    (transport as Transport).send = (message, options) => {
      const sent = send(message, options);
      const settled = sent.catch(() => undefined);
      sends.add(settled);
      void settled.then(() => sends.delete(settled));
      return sent;
    };
    try {
      await connectWithin(this.client, transport, this.options.connectTimeoutMs, signal);
    } catch (error) {
      if (signal?.aborted) throw new LaunchError("ABORTED", `the call to ${server.prefix} was cancelled while connecting to the remote server`, "Nothing to do: the client cancelled the request.");
      throw new LaunchError(
        "CONTAINER_START_FAILED",
        `cannot reach the remote server ${server.prefix} at ${target.display} (${target.type}): ${describeFailure(error, target.secretValues)}`,
        "Check that the server is up and reachable from the daemon, and its url and header secrets; the next call tries again.",
      );
    }
    if (this.closed) {
      await shutdown(this.client, transport);
      return;
    }
    this.transport = transport;
    this.connects += 1;
    this.events.onConnected(this);
    this.options.logger.debug(
      { server: server.prefix, url: target.display, session: this.key.slice(0, 8), upstreamSession: transport instanceof StreamableHTTPClientTransport ? transport.sessionId : undefined },
      this.connects > 1 ? "upstream session reopened" : "upstream session opened",
    );
  }

  /**
   * Transport errors after connecting. A lost event stream means the upstream went away (or the
   * network did): requests waiting on it would never be answered, so the transport is dropped,
   * they fail with a clear error, and the next call reconnects. A Streamable HTTP session with
   * nothing in flight is left as it is: its next request finds out (an upstream that restarted
   * rejects the old session, and the request is sent again on a new one).
   */
  private transportError(transport: RemoteTransport, error: Error): void {
    if (this.transport !== transport || this.closed) return;
    const reason = describeFailure(error, this.target?.secretValues ?? []);
    this.options.logger.debug({ server: this.server.prefix, err: reason }, "upstream transport error");
    const streamLost = transport instanceof SSEClientTransport ? error instanceof SseError : error.message.startsWith("SSE stream disconnected");
    if (!streamLost) return;
    if (transport instanceof SSEClientTransport || this.running > 0) this.invalidate(this.connects, "lost");
  }
}

function newClient(options: UpstreamOptions): Client {
  return new Client(options.clientInfo ?? { ...IMPLEMENTATION }, { capabilities: { sampling: {}, elicitation: {} } });
}

function newTransport(target: RemoteTarget, fetchFn: typeof fetch = fetch): RemoteTransport {
  const requestInit: RequestInit = { headers: target.headers };
  if (target.type === "streamable-http") return new StreamableHTTPClientTransport(target.url, { requestInit, fetch: fetchFn });
  // The event stream's GET goes through its own fetch: give it the headers too.
  return new SSEClientTransport(target.url, {
    requestInit,
    fetch: fetchFn,
    eventSourceInit: { fetch: (url, init) => fetchFn(url, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...target.headers } }) },
  });
}

/** Connects and initializes within the connect timeout (an upstream that accepts but never answers must not hang us). */
async function connectWithin(client: Client, transport: RemoteTransport, limitMs = 30_000, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${limitMs / 1000} s`)), limitMs);
  });
  const connected = client.connect(transport, { timeout: limitMs, ...(signal ? { signal } : {}) });
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

/** Ends the upstream session politely (DELETE for Streamable HTTP, bounded) and closes the client. */
async function shutdown(client: Client, transport: RemoteTransport | undefined): Promise<void> {
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
