import type { DiscoverResult } from "@modelcontextprotocol/client";
import type { ClientCapabilities, LoggingLevel, ServerCapabilities, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../registry/types.js";

/**
 * Runs MCP servers for calls. The gateway codes against this interface; the Docker
 * implementation is `DockerLauncher`.
 */
export interface Launcher {
  /** Makes the server version ready to start with no download (derived image etc.), once. */
  prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void>;
  /** A client connected to the server (initialized, for a 2025-era one), under its lifecycle. */
  acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease>;
  /** Per-session containers of that session go away. */
  endSession(sessionId: string): Promise<void>;
  /** Drain: containers of that server version end once idle (sync calls this on change/removal). */
  retire(server: RegistryServer): Promise<void>;
  stats(): LauncherStats;
  /** Removes everything of ours. */
  close(): Promise<void>;
  /**
   * The era this launcher found for a server version (probed at prepare, or adopted), if its kind
   * has eras to find; the catalog keeps it (`Catalog.era`).
   */
  eraOf?(server: RegistryServer): KnownEra | undefined;
  /**
   * An era found before, kept with the version's cached catalog: later connects use it, with no
   * probe. A launcher whose upstreams can change era under an unchanged version (a remote URL)
   * does not take it.
   */
  adoptEra?(server: RegistryServer, era: KnownEra): void;
}

/**
 * A server version's era as probed once: a 2026-07-28 server with its `server/discover` answer
 * (every later client connects from it: nothing sent on connect), or a 2025 one (initialize). The
 * persistable subset of what the probe learns (the SDK v2's `connect({ prior })` takes it as is).
 */
export type KnownEra = { kind: "modern"; discover: DiscoverResult } | { kind: "legacy" };

/** Whether a 2026 server's advertisement lists a 2025 revision too (it also opens 2025 sessions). */
export function advertisesLegacy(discover: DiscoverResult): boolean {
  return discover.supportedVersions.some((version) => version < "2026");
}

/**
 * MCP 2026-07-28's UnsupportedProtocolVersion: an upstream that answers it no longer speaks the
 * era its verdict says; the launcher forgets the verdict (the next connection negotiates again).
 */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

export interface AcquireOptions {
  sessionId: string;
  signal?: AbortSignal;
  /**
   * The era of the caller's own hop. A 2025 caller (`legacy`) of an upstream that speaks both eras
   * keeps a 2025 session with it, so it is asked mid-call as before; a 2026 caller (`modern`), or
   * any caller of a 2026-only upstream, is served statelessly. Default: the upstream's newest era.
   */
  era?: UpstreamEra;
}

export interface LeaseTimings {
  /** Time spent waiting for a container slot. */
  queueMs: number;
  /** Time spent starting and initializing a container for this lease (0 for a warm or reused one). */
  startMs: number;
  /** True when the container came from the warm pool or was reused (per-session, shared). */
  warm: boolean;
}

/** The wire era an upstream is spoken to in: `legacy` (2025 revisions, initialize + session) or `modern` (2026-07-28, stateless). */
export type UpstreamEra = "legacy" | "modern";

/** A result schema (the SDK v1's zod schemas fit): what a request's result is checked against. */
export interface ResultSchema<T> {
  parse(value: unknown): T;
}

/** A modern upstream's `input_required` answer: its questions under its own keys, and its own state. */
/** A task handle an upstream answered `tools/call` with (a caller that declared the Tasks extension gets it). */
export type UpstreamTask = { resultType: "task"; taskId: string } & Record<string, unknown>;

export interface UpstreamInputRequired {
  resultType: "input_required";
  inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
  requestState?: string;
  _meta?: Record<string, unknown>;
}

export interface UpstreamRequestOptions {
  signal?: AbortSignal;
  timeout?: number;
  /**
   * Who the request is for. A modern upstream gets the caller's capabilities and log level on each
   * request (so it asks only for what the caller can answer, or refuses with -32021); a legacy
   * upstream was told the gateway's capabilities once, at initialize, and ignores these.
   */
  caller?: { capabilities?: ClientCapabilities | undefined; logLevel?: LoggingLevel | undefined };
  /**
   * `fulfil` (default): an upstream's questions are answered through the `onRequest` handlers,
   * whatever the era. `return`: a modern upstream's `input_required` result is handed back as it
   * is (a 2026 caller answers it itself); a legacy upstream still asks through `onRequest`.
   */
  inputRequired?: "fulfil" | "return";
  /** For `tools/call`: the tool as the catalog lists it (a 2026 upstream's `Mcp-Param-*` headers are mirrored from its input schema). */
  tool?: Tool | undefined;
}

/** The requests an upstream may ask the gateway during a call (2025: server-to-client requests; 2026: `input_required`, fulfilled). */
export type UpstreamQuestion = "sampling/createMessage" | "elicitation/create" | "roots/list";
/** The notifications the gateway passes on from an upstream. */
export type UpstreamNotice = "notifications/progress" | "notifications/message" | "notifications/resources/updated";

export interface UpstreamMessage {
  method: string;
  params?: Record<string, unknown> | undefined;
}

/**
 * What the gateway needs of a connected upstream, whatever its era: the seam between the gateway
 * and the SDK clients (v1 for 2025 upstreams, v2 for 2026 ones: remote, and containers whose
 * kept era is 2026-07-28).
 */
export interface UpstreamClient {
  readonly era: UpstreamEra;
  /** One request; its result checked against `schema` (a returned `input_required` is not). */
  request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options?: UpstreamRequestOptions & { inputRequired?: "fulfil" }): Promise<T>;
  request<T>(request: UpstreamMessage, schema: ResultSchema<T>, options: UpstreamRequestOptions): Promise<T | UpstreamInputRequired>;
  /** Answers the upstream's questions (one handler per method; a later one replaces it). */
  onRequest(method: UpstreamQuestion, handler: (request: UpstreamMessage, extra: { signal: AbortSignal }) => Promise<unknown>): void;
  /** Receives the upstream's notifications of one method (one handler per method). */
  onNotification(method: UpstreamNotice, handler: (notification: UpstreamMessage) => void | Promise<void>): void;
  serverCapabilities(): ServerCapabilities | undefined;
  /**
   * 2026 only: a `subscriptions/listen` stream for one resource (the 2026 revision has no
   * `resources/subscribe`); its updates arrive as `notifications/resources/updated` to the
   * `onNotification` handler. Rejects when the upstream does not honour the subscription.
   */
  watchResource?(uri: string): Promise<{ close(): Promise<void> }>;
  /** 2025: `logging/setLevel` on the session. 2026: nothing to send (the level travels per request, see `caller`). */
  setLoggingLevel(level: LoggingLevel, options?: UpstreamRequestOptions): Promise<void>;
}

/**
 * Whether a result is a task handle (`resultType: "task"`, the 2026-07-28 Tasks extension's
 * `CreateTaskResult`): passed back as it is, like `input_required`, to a caller that follows tasks.
 */
export function isUpstreamTask(result: unknown): result is UpstreamTask {
  return typeof result === "object" && result !== null && (result as { resultType?: unknown }).resultType === "task" && typeof (result as { taskId?: unknown }).taskId === "string";
}

/** Whether a result is a (passed-back) `input_required` one. */
export function isUpstreamInputRequired(result: unknown): result is UpstreamInputRequired {
  return typeof result === "object" && result !== null && (result as { resultType?: unknown }).resultType === "input_required";
}

export interface Lease {
  /** The connected upstream (a 2025-era one with capabilities {sampling: {}, elicitation: {}}, already initialized). */
  readonly client: UpstreamClient;
  readonly containerId: string | undefined;
  readonly timings: LeaseTimings;
  /**
   * Runs one request with the server's timeout. For per-call servers, abort or timeout kills the
   * container and a lease runs at most one request. A crash rejects with a LaunchError (an
   * McpError) that names the exit code and the last stderr lines.
   */
  run<T>(fn: (client: UpstreamClient, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Per-call: the container is destroyed off the caller's path. Per-session/shared: returned. */
  release(): void;
}

export interface ServerStats {
  prefix: string;
  revision: string;
  running: number;
  warm: number;
  warming: number;
  poolTarget: number;
  started: number;
}

export interface LauncherStats {
  /** Containers of ours that exist now (starting, warm, in use or being removed). */
  containers: number;
  maxContainers: number;
  /** Callers waiting for a container slot. */
  queued: number;
  /** Containers started since the launcher was created. */
  started: number;
  /** Leases served from the warm pool. */
  poolHits: number;
  /** Per-call leases that had to start a container on the caller's path. */
  poolMisses: number;
  servers: ServerStats[];
}
