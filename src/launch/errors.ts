import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { RegistryServer } from "../registry/types.js";
import type { SecretSource } from "../secrets/secret-source.js";

/** Stable reasons a launch can fail with; each error also says what to do. */
export type LaunchErrorCode =
  | "SECRET_MISSING"
  | "PACKAGE_UNSUPPORTED"
  | "PACKAGE_MISSING"
  | "PREPARE_FAILED"
  | "SATURATED"
  | "TIMEOUT"
  | "ABORTED"
  | "CONTAINER_CRASHED"
  | "CONTAINER_START_FAILED"
  | "LAUNCHER_CLOSED"
  | "EGRESS_UNAVAILABLE"
  | "ENGINE_UNAVAILABLE"
  | "UPSTREAM_GONE"
  | "UPSTREAM_REFUSED";

/**
 * JSON-RPC error codes used for launch failures, inside the implementation-defined range
 * -32000..-32019 (MCP 2026-07-28 reserves -32020..-32099 for the specification: -32020
 * HeaderMismatch, -32021 MissingRequiredClientCapability, -32022 UnsupportedProtocolVersion...).
 */
export const LAUNCH_RPC_CODES: Record<LaunchErrorCode, number> = {
  /** The SDK's RequestTimeout. */
  TIMEOUT: -32001,
  EGRESS_UNAVAILABLE: -32005,
  ENGINE_UNAVAILABLE: -32006,
  /** A remote (HTTP) upstream's connection was lost during a call; CONTAINER_CRASHED is for containers. */
  UPSTREAM_GONE: -32007,
  /** A remote (HTTP) upstream answered a request with an HTTP error (401/403, 5xx). */
  UPSTREAM_REFUSED: -32008,
  SECRET_MISSING: -32010,
  PACKAGE_UNSUPPORTED: -32012,
  PACKAGE_MISSING: -32013,
  PREPARE_FAILED: -32014,
  SATURATED: -32015,
  ABORTED: -32016,
  CONTAINER_CRASHED: -32017,
  CONTAINER_START_FAILED: -32018,
  LAUNCHER_CLOSED: -32019,
};

/**
 * An error of the launch layer. It is an MCP `McpError`, so the gateway can pass it to clients
 * unchanged; `reason` is the stable code and `hint` says what to do. Messages never contain
 * secret values: callers only ever put variable NAMES in them.
 */
export class LaunchError extends McpError {
  readonly reason: LaunchErrorCode;
  readonly hint: string;

  constructor(reason: LaunchErrorCode, message: string, hint: string, options?: { cause?: unknown; data?: Record<string, unknown> }) {
    super(LAUNCH_RPC_CODES[reason], `${message} (${reason}). ${hint}`, { reason, hint, ...options?.data });
    this.name = "LaunchError";
    this.reason = reason;
    this.hint = hint;
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export function isLaunchError(error: unknown, reason?: LaunchErrorCode): error is LaunchError {
  return error instanceof LaunchError && (reason === undefined || error.reason === reason);
}

/** The error for required inputs without a value: names them and says where to set them. */
export function missingSecrets(server: RegistryServer, names: string[], secrets: SecretSource): LaunchError {
  const unique = [...new Set(names)];
  const list = unique.join(", ");
  return new LaunchError(
    "SECRET_MISSING",
    `server ${server.prefix} needs ${unique.length === 1 ? "the variable" : "the variables"} ${list}, which ${unique.length === 1 ? "is" : "are"} not set in ${secrets.description}`,
    `Grant ${list} in the daemon's secret store: its secrets file (--secrets-file, KEY=VALUE lines), its secrets folder (--secrets-dir), or ${unique.map((n) => `MCP_ROUTER_SECRET_${n}`).join(", ")} in its environment; then retry.`,
    { data: { variables: unique } },
  );
}
