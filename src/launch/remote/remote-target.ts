/**
 * Where a remote-only server is reached: the selected `remotes[]` entry with its URL template
 * filled and its headers resolved from the registry file and the daemon's secret source. Pure:
 * no I/O. Also tells apart the ways a request to a remote can fail, which decides whether the
 * launcher may reconnect and send it again.
 */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Input, RegistryServer, Remote } from "../../registry/types.js";
import { LaunchError, missingSecrets } from "../errors.js";
import { newResolution, resolveHeader, substitute } from "../../secrets/input-values.js";
import { scrubSecrets } from "../../secrets/secret-scrubber.js";
import type { SecretSource } from "../../secrets/secret-source.js";

export interface RemoteTarget {
  type: Remote["type"];
  url: URL;
  /** Header values, secrets included. Never log this. */
  headers: Record<string, string>;
  /** The URL for messages and logs, with secret values replaced by `***`. */
  display: string;
  /** Secret values that went into the URL or headers, for scrubbing. Never log this. */
  secretValues: string[];
}

/** The remote a server is proxied to (`router.remote`, default 0). */
export function selectedRemote(server: RegistryServer): Remote {
  const index = server.entry.router?.remote ?? 0;
  const remote = server.entry.remotes?.[index];
  if (!remote) {
    throw new LaunchError(
      "PACKAGE_MISSING",
      `server ${server.prefix} (${server.file}) has no remote at index ${index}`,
      "Add a `remotes` entry ({type: streamable-http | sse, url}), or point `router.remote` at an existing one.",
    );
  }
  return remote;
}

/** Resolves the remote's URL and headers; throws SECRET_MISSING (by name) before anything connects. */
export function remoteTarget(server: RegistryServer, secrets: SecretSource): RemoteTarget {
  const remote = selectedRemote(server);
  const r = newResolution();
  const filled = substitute(remote.url, remote.variables as Record<string, Input | undefined> | undefined, secrets, r);
  const headers: Record<string, string> = {};
  for (const header of remote.headers ?? []) {
    const value = resolveHeader(header, secrets, r);
    if (value === undefined) continue;
    if (/[\r\n]/.test(value)) {
      throw new LaunchError("PACKAGE_UNSUPPORTED", `server ${server.prefix}: the value of header ${header.name} contains a line break`, "Give the header a single-line value.");
    }
    headers[header.name] = value;
  }
  if (r.missing.length > 0) throw missingSecrets(server, r.missing, secrets);
  const text = filled ?? remote.url;
  const unresolved = /\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(text);
  if (unresolved) {
    throw new LaunchError(
      "PACKAGE_UNSUPPORTED",
      `server ${server.prefix}: remote url ${JSON.stringify(remote.url)} has a placeholder {${unresolved[1]}} with no value`,
      `Declare ${unresolved[1]} under the remote's \`variables\` with a value, a default, or isSecret: true.`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LaunchError("PACKAGE_UNSUPPORTED", `server ${server.prefix}: remote url ${JSON.stringify(remote.url)} does not resolve to a URL`, "Check the url and the values of its variables.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new LaunchError("PACKAGE_UNSUPPORTED", `server ${server.prefix}: remote url must be http or https`, "Use an http:// or https:// url.");
  }
  return { type: remote.type, url, headers, display: scrubSecrets(url.href, r.secretValues), secretValues: r.secretValues };
}

/**
 * How a request to a remote failed:
 * - `unreached`: it never left (connection refused, no route, not connected): safe to send again;
 * - `session-gone`: the upstream rejected the session as unknown (HTTP 404, or 400 naming the
 *   session) before handling the request: safe to send again on a new session;
 * - `lost`: the connection broke while the request was out: it may have run, so not sent again;
 * - `http`: the upstream refused it at the HTTP level (401, 403, 5xx...);
 * - `answer`: the upstream's own JSON-RPC error: passed to the caller as it is.
 */
export type RemoteFailure = "unreached" | "session-gone" | "lost" | "http" | "answer";

const CONNECT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT"]);

/** Error codes on an error, its causes and aggregated errors (`fetch failed` keeps them in `cause`). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (!error || typeof error !== "object" || depth > 4) return [];
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const own = typeof e.code === "string" ? [e.code] : [];
  const nested = Array.isArray(e.errors) ? e.errors.flatMap((x) => errorCodes(x, depth + 1)) : [];
  return [...own, ...errorCodes(e.cause, depth + 1), ...nested];
}

/** The HTTP status a transport error carries, if any. */
export function httpStatus(error: unknown): number | undefined {
  if (error instanceof StreamableHTTPError && typeof error.code === "number" && error.code >= 100) return error.code;
  // The SDK v2's HTTP errors carry the status in their data.
  const data = (error as { data?: { status?: unknown } } | undefined)?.data;
  if (error instanceof Error && typeof data?.status === "number" && data.status >= 100) return data.status;
  const match = /\(HTTP (\d{3})\)/.exec(error instanceof Error ? error.message : "");
  return match ? Number(match[1]) : undefined;
}

export function classifyFailure(error: unknown): RemoteFailure {
  if (error instanceof McpError) return error.code === ErrorCode.ConnectionClosed ? "lost" : "answer";
  if (error instanceof Error && error.message === "Not connected") return "unreached";
  const codes = errorCodes(error);
  if (codes.some((c) => CONNECT_CODES.has(c))) return "unreached";
  const status = httpStatus(error);
  if (status !== undefined) {
    const message = error instanceof Error ? error.message : "";
    if (status === 404 || (status === 400 && /session/i.test(message))) return "session-gone";
    return "http";
  }
  return "lost";
}

/** A short reason for messages: the error code or HTTP status and the first line of the message. */
export function describeFailure(error: unknown, secretValues: readonly string[]): string {
  const codes = errorCodes(error).filter((c) => /^[A-Z_]+$/.test(c));
  const message = error instanceof Error ? error.message : String(error);
  const first = (message.split("\n")[0] ?? "").slice(0, 300);
  const text = codes.length > 0 && !first.includes(codes[0] as string) ? `${first} (${codes[0]})` : first;
  return scrubSecrets(text, secretValues);
}
