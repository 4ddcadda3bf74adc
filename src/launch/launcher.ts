import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { RegistryServer } from "../registry/types.js";

/**
 * Runs MCP servers for calls. The gateway codes against this interface; the Docker
 * implementation is `DockerLauncher`.
 */
export interface Launcher {
  /** Makes the server version ready to start with no download (derived image etc.), once. */
  prepare(server: RegistryServer, onProgress?: (message: string) => void): Promise<void>;
  /** An initialized MCP SDK Client connected to the server, under its lifecycle. */
  acquire(server: RegistryServer, opts: AcquireOptions): Promise<Lease>;
  /** Per-session containers of that session go away. */
  endSession(sessionId: string): Promise<void>;
  /** Drain: containers of that server version end once idle (sync calls this on change/removal). */
  retire(server: RegistryServer): Promise<void>;
  stats(): LauncherStats;
  /** Removes everything of ours. */
  close(): Promise<void>;
}

export interface AcquireOptions {
  sessionId: string;
  signal?: AbortSignal;
}

export interface LeaseTimings {
  /** Time spent waiting for a container slot. */
  queueMs: number;
  /** Time spent starting and initializing a container for this lease (0 for a warm or reused one). */
  startMs: number;
  /** True when the container came from the warm pool or was reused (per-session, shared). */
  warm: boolean;
}

export interface Lease {
  /** Created with capabilities {sampling: {}, elicitation: {}}, already initialized. */
  readonly client: Client;
  readonly containerId: string | undefined;
  readonly timings: LeaseTimings;
  /**
   * Runs one request with the server's timeout. For per-call servers, abort or timeout kills the
   * container and a lease runs at most one request. A crash rejects with a LaunchError (an
   * McpError) that names the exit code and the last stderr lines.
   */
  run<T>(fn: (client: Client, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
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
