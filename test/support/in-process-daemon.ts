/**
 * The daemon as `serve` assembles it (startDaemon), over a registry folder in a temp dir, serving
 * the in-process `probe` server (InProcessLauncher: no Docker) under each lifecycle, plus raw HTTP
 * helpers that speak MCP's Streamable HTTP with node's fetch. For the HTTP edge's tests: limits,
 * timeouts, access checks, the webhook.
 */
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Daemon, DaemonConfig } from "../../src/daemon/start-daemon.js";
import { startDaemon } from "../../src/daemon/start-daemon.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { InProcessLauncher } from "./in-process-launcher.js";
import type { ProbeEvents } from "./in-process-servers.js";
import { PROBE_PACKAGE, probePackage, probeUpstream } from "./in-process-servers.js";
import { testServer, writeRegistry } from "./servers.js";

export const IN_PROCESS_KEY = "test-key-http-edge-0123456789";

export interface InProcessDaemon {
  readonly daemon: Daemon;
  readonly launcher: InProcessLauncher;
  readonly probeEvents: EventEmitter<ProbeEvents>;
  /** The daemon's base URL (`http://127.0.0.1:<port>/`). */
  readonly url: URL;
  readonly key: string;
  /** The registry folder the daemon follows (add or change files there to reload). */
  readonly registryDir: string;
  close(): Promise<void>;
}

/** Extra DaemonConfig settings: the HTTP ones are merged into the default loopback bind with a key. */
export interface InProcessDaemonOptions {
  http?: Partial<NonNullable<DaemonConfig["http"]>>;
  webhookSecret?: string;
  tracing?: DaemonConfig["tracing"];
  audit?: DaemonConfig["audit"];
}

/**
 * Starts the daemon with `percall` (per-call), `persession` (per-session) and `slow` (per-call,
 * calls time out after 1 s) probe servers; resolves once they are applied.
 */
export async function startInProcessDaemon(options: InProcessDaemonOptions = {}): Promise<InProcessDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-router-http-edge-"));
  const probeEvents = new EventEmitter<ProbeEvents>();
  const launcher = new InProcessLauncher({ upstreams: { [PROBE_PACKAGE]: probeUpstream(probeEvents) } });
  await writeRegistry(join(dir, "registry"), [
    testServer("percall", probePackage()),
    testServer("persession", probePackage(), { lifecycle: "per-session" }),
    testServer("slow", probePackage(), { limits: { timeoutSeconds: 1 } }),
  ]);
  const daemon = await startDaemon({
    registry: { dir: join(dir, "registry") },
    dataDir: join(dir, "data"),
    secrets: staticSecretSource({}),
    log: { level: process.env.LOG_LEVEL ?? "silent" },
    http: { host: "127.0.0.1", port: 0, apiKeys: [IN_PROCESS_KEY], ...options.http },
    launcher,
    ...(options.webhookSecret ? { webhookSecret: options.webhookSecret } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  });
  await daemon.sync.started;
  const failed = daemon.status().servers.filter((s) => s.reason !== "Applied");
  if (failed.length > 0) throw new Error(`servers not applied: ${JSON.stringify(failed)}`);
  return {
    daemon,
    launcher,
    probeEvents,
    url: daemon.url!,
    key: IN_PROCESS_KEY,
    registryDir: join(dir, "registry"),
    async close() {
      await daemon.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Headers of a Streamable HTTP POST with the bearer key. */
export function mcpHeaders(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, accept: "application/json, text/event-stream", "content-type": "application/json", ...extra };
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "http-edge-test", version: "1.0.0" } },
} as const;

/** A raw `initialize` POST: the response (its body read) and the session id it opened, if any. */
export async function initializeSession(
  base: URL,
  key: string,
  path = "/mcp",
): Promise<{ status: number; sessionId: string | null; retryAfter: string | null; body: { result?: unknown; error?: { code: number; message: string } } }> {
  const res = await fetch(new URL(path, base), { method: "POST", headers: mcpHeaders(key), body: JSON.stringify(INITIALIZE) });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  return { status: res.status, sessionId: res.headers.get("mcp-session-id"), retryAfter: res.headers.get("retry-after"), body };
}

/** One JSON-RPC request on a session; the status and the parsed JSON body (or the raw SSE text). */
export async function sessionRequest(base: URL, key: string, sessionId: string, message: unknown, path = "/mcp"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, base), {
    method: "POST",
    headers: mcpHeaders(key, { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" }),
    body: JSON.stringify(message),
  });
  const text = await res.text();
  const json = (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  })();
  return { status: res.status, body: json };
}
