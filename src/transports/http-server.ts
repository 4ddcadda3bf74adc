/**
 * The gateway over HTTP: Streamable HTTP at `/mcp`, legacy SSE at `/sse` + `/messages`, one
 * server under its original names at `/servers/<prefix>/mcp`, `/healthz` / `/readyz`, and the
 * Prometheus metrics at `/metrics`; the daemon adds routes by exact path or by prefix (the web
 * console, the registry API). Every route passes the Host/Origin checks against DNS
 * rebinding; every MCP endpoint and `/metrics` also require a bearer, an API key or an OAuth access
 * token (unless auth is off on a loopback bind), which yields the request's principal
 * (`http-auth.ts`; with OAuth on, its Protected Resource Metadata is served here too). A session
 * serves only the principal that opened it. An allowed Origin gets CORS headers, and its preflight
 * (`OPTIONS`) a 204.
 *
 * Limits: at most `maxSessions` sessions (Streamable HTTP and SSE together; one more gets 503 with
 * `Retry-After`), a Streamable HTTP session with no request and no open stream for
 * `sessionIdleMs` is closed by one sweep timer, and a request must arrive (headers, then the whole
 * body) within `headersTimeoutMs` / `bodyTimeoutMs` (Node answers 408). Answers may take as long
 * as they take: the timeouts end once the request is received, so event streams and long calls
 * are not cut.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { classifyInboundRequest } from "@modelcontextprotocol/server";
import type { Logger } from "pino";
import { isLoopback } from "../auth/api-keys.js";
import type { Principal } from "../auth/principal.js";
import { ConfigError } from "../config-error.js";
import type { Gateway, GatewaySession, SessionScope } from "../gateway/gateway.js";
import type { OAuthResourceSettings } from "./http-auth.js";
import { AuthRefused, createHttpAuthenticator } from "./http-auth.js";
import { HEADER_MISMATCH, paramHeaderMismatch, standardHeaderMismatch } from "./mcp-headers.js";
import { HttpError, readJsonBody } from "./request-body.js";
import { keepStreamAlive } from "./sse-keepalive.js";
import { StreamableHttpTransport } from "./streamable-http-transport.js";
import { serveStatelessRequest } from "./stateless-exchange.js";

export interface HttpGatewayOptions {
  gateway: Gateway;
  logger: Logger;
  host: string;
  port: number;
  /** Accepted bearer keys; `undefined` = auth off (only allowed on a loopback bind). */
  apiKeys: readonly string[] | undefined;
  /** Also accept OAuth access tokens from this issuer (the gateway as an OAuth protected resource). */
  oauth?: OAuthResourceSettings;
  /** Extra allowed Origin values (exact, e.g. `https://app.example.com`). */
  allowedOrigins?: readonly string[];
  /** Extra allowed Host header values (host or host:port). */
  allowedHosts?: readonly string[];
  /** Readiness for `/readyz` (catalog discovery done etc.). */
  readiness?: () => { ready: boolean; detail?: Record<string, unknown> };
  /** Largest accepted request body (default 4 MiB). */
  maxBodyBytes?: number;
  /** An idle event stream (SSE, the Streamable HTTP GET stream) gets a comment this often (default 25 s). */
  sseKeepAliveMs?: number;
  /** Most sessions held at once, Streamable HTTP and legacy SSE together (default 1000); one more gets 503. */
  maxSessions?: number;
  /**
   * A Streamable HTTP session without any request and without an open stream or unanswered request
   * for this long is closed (default 10 minutes; 0 = never). Legacy SSE sessions end with their stream.
   */
  sessionIdleMs?: number;
  /** The request line and headers must arrive within this (default 15 s). */
  headersTimeoutMs?: number;
  /** The whole request, headers and body, must arrive within this (default 30 s); answers are not timed. */
  bodyTimeoutMs?: number;
  /**
   * More routes, by exact path (e.g. `/status`, `/hooks/github` from sync). `public` routes skip
   * the bearer check and must authenticate requests themselves (a webhook's signature).
   */
  routes?: Readonly<Record<string, { method: string; public?: boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void }>>;
  /**
   * Routes for every path under a prefix ending in `/` (e.g. `/api/console/`), any method: matched
   * after the exact routes. `public` as above. A prefix may not cover the gateway's own endpoints.
   */
  prefixRoutes?: readonly PrefixRoute[];
  /** Served as `GET /metrics` (behind the bearer check) when given: a `GatewayMetrics`. */
  metrics?: { readonly contentType: string; render(): Promise<string> };
}

export interface PrefixRoute {
  prefix: string;
  public?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}

/** Paths the gateway answers itself: no prefix route may take them over. */
const OWN_PATHS = ["/mcp", "/servers", "/sse", "/messages", "/metrics", "/healthz", "/readyz"];

function checkPrefixRoutes(routes: readonly PrefixRoute[]): void {
  for (const { prefix } of routes) {
    const taken = OWN_PATHS.find((own) => `${own}/`.startsWith(prefix) || prefix.startsWith(`${own}/`));
    if (!prefix.startsWith("/") || !prefix.endsWith("/") || prefix === "/" || taken) {
      throw new ConfigError("BAD_PREFIX_ROUTE", `the route prefix "${prefix}" ${taken ? `would take over ${taken}` : "must start and end with / and name a folder"}`, "Give a prefix such as /api/console/ that no gateway endpoint starts with.");
    }
  }
}

export interface HttpGateway {
  readonly url: URL;
  readonly server: HttpServer;
  readonly sessionCount: number;
  close(): Promise<void>;
}

interface StreamableEntry {
  transport: StreamableHttpTransport;
  session: GatewaySession;
  scopeKey: string;
  /** Who opened the session: only they may use it. */
  principalId: string;
  /** Date.now() of the session's last request (or of the last sweep that saw a stream open). */
  lastSeen: number;
}

export const DEFAULT_MAX_SESSIONS = 1000;
export const DEFAULT_SESSION_IDLE_MS = 10 * 60_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 15_000;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** What a browser on an allowed Origin may send and read (the preflight's answer). */
const CORS_ALLOW_METHODS = "GET, POST, DELETE, OPTIONS";
const CORS_ALLOW_HEADERS = "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name";
const CORS_EXPOSE_HEADERS = "mcp-session-id, www-authenticate";
const CORS_MAX_AGE_SECONDS = "600";

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** The MCP headers the 2026 revision mirrors from the body, for the classifier. */
function headerFields(req: IncomingMessage): { protocolVersionHeader?: string; mcpMethodHeader?: string; mcpNameHeader?: string } {
  const one = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const version = one("mcp-protocol-version");
  const method = one("mcp-method");
  const name = one("mcp-name");
  return { ...(version !== undefined ? { protocolVersionHeader: version } : {}), ...(method !== undefined ? { mcpMethodHeader: method } : {}), ...(name !== undefined ? { mcpNameHeader: name } : {}) };
}

function rpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null }, headers);
}

/** A per-server path's prefix, decoded; a 400 that says so when its percent-encoding is broken. */
function decodePrefix(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, `the server prefix "${encoded}" in /servers/<prefix>/mcp is not valid percent-encoding; use the prefix as /status lists it (URL-encoded with encodeURIComponent if needed)`);
  }
}

function hostsFor(bindHost: string, port: number, extra: readonly string[]): Set<string> | undefined {
  // A wildcard bind answers under any name: only an explicit list can be checked then.
  const wildcard = bindHost === "0.0.0.0" || bindHost === "::" || bindHost === "";
  if (wildcard && extra.length === 0) return undefined;
  const names = new Set<string>();
  const add = (h: string): void => {
    names.add(h.toLowerCase());
    names.add(`${h.toLowerCase()}:${port}`);
  };
  if (!wildcard) add(bindHost.includes(":") && !bindHost.startsWith("[") ? `[${bindHost}]` : bindHost);
  // Loopback names are safe to accept on any bind (a rebinding page cannot make a browser send them),
  // and a health check inside the container or pod (curl http://127.0.0.1:8808/readyz) uses them.
  if (wildcard || isLoopback(bindHost)) for (const h of ["localhost", "127.0.0.1", "[::1]"]) add(h);
  for (const h of extra) names.add(h.toLowerCase());
  return names;
}

/** Starts listening; resolves once bound (port 0 picks a free port). */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { gateway, logger } = options;
  if (options.apiKeys === undefined && options.oauth === undefined && !isLoopback(options.host)) {
    throw new ConfigError(
      "NO_AUTH_NOT_LOOPBACK",
      `--no-auth is refused on ${options.host}: anyone who can reach that address could run every server`,
      "Bind to 127.0.0.1 (the default) for --no-auth, or keep auth on and give clients an API key.",
    );
  }
  checkPrefixRoutes(options.prefixRoutes ?? []);
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, bodyTimeoutMs);
  if (!(Number.isInteger(maxSessions) && maxSessions >= 1)) {
    throw new ConfigError("BAD_MAX_SESSIONS", `the session limit ${maxSessions} is not a positive whole number`, "Pass e.g. --max-sessions 1000.");
  }
  const streamable = new Map<string, StreamableEntry>();
  const sse = new Map<string, { transport: SSEServerTransport; session: GatewaySession; principalId: string }>();
  /** Filled once the port is known. */
  const access: { hosts: Set<string> | undefined; origins: Set<string> } = { hosts: undefined, origins: new Set() };
  const log = logger.child({ component: "http" });
  const auth = createHttpAuthenticator(options.apiKeys, options.oauth);

  /** Host and Origin, on every route (DNS rebinding protection); returns the allowed Origin, if any. */
  function checkHostAndOrigin(req: IncomingMessage): string | undefined {
    const host = (req.headers.host ?? "").toLowerCase();
    if (access.hosts && !access.hosts.has(host)) throw new HttpError(403, `Host "${host}" is not allowed (DNS rebinding protection); add it with --allow-host`);
    const origin = req.headers.origin;
    if (origin !== undefined && !access.origins.has(origin.toLowerCase())) {
      throw new HttpError(403, `Origin "${origin}" is not allowed; add it with --allow-origin`);
    }
    return origin;
  }

  /** Who calls (an API key or an OAuth token), on every route but health, preflights, metadata and `public` ones. */
  async function authenticate(req: IncomingMessage, path: string): Promise<Principal> {
    try {
      return await auth.authenticate(req.headers.authorization, path);
    } catch (error) {
      if (error instanceof AuthRefused) throw new HttpError(error.status, error.message, error.headers);
      throw error;
    }
  }

  /** A session is used only by the principal that opened it (another's token gets 403, not their session). */
  function checkOwner(owner: string, principal: Principal): void {
    if (owner !== principal.id) throw new HttpError(403, "this session was opened by another principal; initialize a session of your own");
  }

  /** Throws the 503 a new session gets when `maxSessions` are held. */
  /** Open 2026 `subscriptions/listen` streams: long-lived like sessions, so they count against the same limit. */
  let listening = 0;

  function checkSessionRoom(): void {
    if (streamable.size + sse.size + listening < maxSessions) return;
    const retryAfter = String(Math.max(1, Math.min(60, Math.ceil((idleMs || 60_000) / 1000))));
    throw new HttpError(
      503,
      `the gateway holds its limit of ${maxSessions} sessions; retry after ${retryAfter} s, end sessions you no longer use (DELETE with their mcp-session-id), or raise the limit with --max-sessions`,
      { "retry-after": retryAfter },
    );
  }

  async function handleStreamable(req: IncomingMessage, res: ServerResponse, scope: SessionScope, principal: Principal): Promise<void> {
    const scopeKey = scope.kind === "all" ? "*" : scope.prefix;
    const body = req.method === "POST" ? await readJsonBody(req, maxBody) : undefined;
    const sid = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(sid) ? sid[0] : sid;
    if (sessionId) {
      const entry = streamable.get(sessionId);
      if (!entry || entry.scopeKey !== scopeKey) return rpcError(res, 404, -32001, "session not found; initialize a new session");
      checkOwner(entry.principalId, principal);
      entry.lastSeen = Date.now();
      entry.transport.handle(req, res, body);
      return;
    }
    if (req.method === "POST") {
      // Without a session: a 2026-07-28 request (self-contained, its version in _meta), or the initialize that opens a 2025 session.
      const outcome = classifyInboundRequest({
        httpMethod: "POST",
        body,
        ...headerFields(req),
      });
      if (outcome.kind === "reject") {
        const id = (body as { id?: unknown } | undefined)?.id;
        return sendJson(res, outcome.httpStatus, { jsonrpc: "2.0", id: typeof id === "string" || typeof id === "number" ? id : null, error: { code: outcome.code, message: outcome.message, ...(outcome.data !== undefined ? { data: outcome.data } : {}) } });
      }
      if (outcome.kind === "modern") {
        if (scope.kind === "server" && !gateway.holder.current().servers.has(scope.prefix)) {
          return sendJson(res, 404, { jsonrpc: "2.0", id: outcome.messageKind === "request" ? outcome.message.id : null, error: { code: -32602, message: `no server "${scope.prefix}" in the registry` } });
        }
        if (outcome.messageKind !== "request") return void res.writeHead(202).end();
        const { message } = outcome;
        const mismatch = standardHeaderMismatch(message, req.headers) ?? (message.method === "tools/call" ? paramHeaderMismatch(gateway.holder.current(), scope, message.params, req.headers) : undefined);
        if (mismatch) return sendJson(res, 400, { jsonrpc: "2.0", id: message.id, error: { code: HEADER_MISMATCH, message: mismatch } });
        const exchange = { gateway, scope, principal, ...(options.sseKeepAliveMs !== undefined ? { keepAliveMs: options.sseKeepAliveMs } : {}) };
        if (outcome.message.method !== "subscriptions/listen") return serveStatelessRequest(req, res, outcome.message, exchange);
        checkSessionRoom();
        listening += 1;
        try {
          return await serveStatelessRequest(req, res, outcome.message, exchange);
        } finally {
          listening -= 1;
        }
      }
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return rpcError(res, 400, -32000, "no mcp-session-id header: the first request of a session must be initialize (2025 revisions), or each request must carry its protocol version in _meta (2026-07-28)");
    }
    if (scope.kind === "server" && !gateway.holder.current().servers.has(scope.prefix)) {
      return rpcError(res, 404, -32002, `no server "${scope.prefix}" in the registry`);
    }
    checkSessionRoom();
    const id = randomUUID();
    const session = gateway.createSession({ sessionId: id, scope, transport: "streamable-http", principal });
    const transport = new StreamableHttpTransport(id, options.sseKeepAliveMs);
    streamable.set(id, { transport, session, scopeKey, principalId: principal.id, lastSeen: Date.now() });
    transport.onclose = () => {
      streamable.delete(id);
      void session.close();
    };
    await session.server.connect(transport);
    transport.handle(req, res, body);
  }

  async function handleSse(res: ServerResponse, principal: Principal): Promise<void> {
    checkSessionRoom();
    const transport = new SSEServerTransport("/messages", res);
    const session = gateway.createSession({ sessionId: transport.sessionId, transport: "sse", principal });
    sse.set(transport.sessionId, { transport, session, principalId: principal.id });
    transport.onclose = () => {
      sse.delete(transport.sessionId);
      void session.close();
    };
    res.on("close", () => {
      if (sse.has(transport.sessionId)) void transport.close();
    });
    await session.server.connect(transport);
    keepStreamAlive(res, options.sseKeepAliveMs);
  }

  async function handleMessages(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal): Promise<void> {
    const id = url.searchParams.get("sessionId") ?? "";
    const entry = sse.get(id);
    if (!entry) return rpcError(res, 404, -32001, "unknown SSE session; open /sse first");
    checkOwner(entry.principalId, principal);
    const body = await readJsonBody(req, maxBody);
    await entry.transport.handlePostMessage(req, res, body);
  }

  /** A browser's preflight from an allowed Origin (checked before): what it may send, no bearer key needed. */
  function preflight(res: ServerResponse, origin: string | undefined): void {
    if (origin === undefined) {
      res.writeHead(204, { allow: CORS_ALLOW_METHODS }).end();
      return;
    }
    res
      .writeHead(204, {
        "access-control-allow-methods": CORS_ALLOW_METHODS,
        "access-control-allow-headers": CORS_ALLOW_HEADERS,
        "access-control-max-age": CORS_MAX_AGE_SECONDS,
      })
      .end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://gateway.invalid");
    } catch {
      throw new HttpError(400, `the request target ${JSON.stringify(req.url)} is not a valid path; MCP is at /mcp`);
    }
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const origin = checkHostAndOrigin(req);
    if (origin !== undefined) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", CORS_EXPOSE_HEADERS);
      res.setHeader("vary", "origin");
    }
    if (req.method === "OPTIONS") return preflight(res, origin);
    if (path === "/healthz" && req.method === "GET") return sendJson(res, 200, { ok: true });
    if (path === "/readyz" && req.method === "GET") {
      const state = options.readiness?.() ?? { ready: true };
      return sendJson(res, state.ready ? 200 : 503, { ready: state.ready, ...state.detail });
    }
    // RFC 9728: where a client learns which authorization server issues tokens for an endpoint (OAuth on).
    const metadata = req.method === "GET" ? auth.metadata(path) : undefined;
    if (metadata) return sendJson(res, 200, metadata, { "cache-control": "max-age=300" });
    const extra = options.routes?.[path];
    if (extra && req.method === extra.method) {
      if (!extra.public) await authenticate(req, path);
      return extra.handle(req, res);
    }
    const prefixed = options.prefixRoutes?.find((r) => `${path}/`.startsWith(r.prefix));
    if (prefixed) {
      if (!prefixed.public) await authenticate(req, path);
      return prefixed.handle(req, res, url);
    }
    const principal = await authenticate(req, path);
    if (path === "/metrics" && req.method === "GET" && options.metrics) {
      const text = await options.metrics.render();
      res.writeHead(200, { "content-type": options.metrics.contentType }).end(text);
      return;
    }
    if (path === "/mcp") return handleStreamable(req, res, { kind: "all" }, principal);
    const perServer = /^\/servers\/([^/]+)\/mcp$/.exec(path);
    if (perServer?.[1]) return handleStreamable(req, res, { kind: "server", prefix: decodePrefix(perServer[1]) }, principal);
    if (path === "/sse" && req.method === "GET") return handleSse(res, principal);
    if (path === "/messages" && req.method === "POST") return handleMessages(req, res, url, principal);
    return sendJson(res, 404, { error: `no endpoint ${req.method} ${path}; MCP is at /mcp (Streamable HTTP) and /sse (legacy SSE)` });
  }

  // Node answers 408 and closes when the request (not the answer) takes too long to arrive; the
  // check runs every `connectionsCheckingInterval`, so that is kept well under both timeouts.
  const server = createServer(
    { headersTimeout: headersTimeoutMs, requestTimeout: bodyTimeoutMs, connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))) },
    (req, res) => {
      route(req, res).catch((error: unknown) => {
        if (error instanceof HttpError) {
          if (error.status >= 400 && error.status !== 404) log.warn({ status: error.status, method: req.method, path: req.url?.split("?")[0] }, error.message);
          const headers: Record<string, string> = { ...(error.status === 401 ? { "www-authenticate": 'Bearer realm="mcp-router"' } : {}), ...error.headers };
          return rpcError(res, error.status, -32000, error.message, headers);
        }
        if (req.socket.destroyed) {
          // The request never finished arriving (the client left, or the request timeout cut it): nobody to answer.
          log.debug({ err: (error as Error).message, path: req.url?.split("?")[0] }, "request ended before its body did");
          return;
        }
        log.error({ err: (error as Error).message, path: req.url?.split("?")[0] }, "request failed");
        rpcError(res, 500, -32603, "internal error");
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = new URL(`http://${urlHost}:${address.port}/`);
  auth.bind(url);
  access.hosts = hostsFor(options.host, address.port, options.allowedHosts ?? []);
  access.origins = new Set(
    [
      ...(isLoopback(options.host) ? ["localhost", "127.0.0.1", "[::1]"].map((h) => `http://${h}:${address.port}`) : []),
      ...(options.allowedOrigins ?? []),
    ].map((o) => o.toLowerCase()),
  );
  log.info({ url: url.href, auth: options.apiKeys !== undefined, oauth: options.oauth?.verifier.issuer, maxSessions, sessionIdleMs: idleMs }, "gateway listening");

  // One sweep for every session: closing a session ends its gateway session and per-session instances.
  const sweep =
    idleMs > 0
      ? setInterval(() => {
          const now = Date.now();
          let expired = 0;
          for (const entry of streamable.values()) {
            if (entry.transport.streaming) entry.lastSeen = now;
            else if (now - entry.lastSeen >= idleMs) {
              expired++;
              void entry.transport.close();
            }
          }
          if (expired > 0) log.info({ expired, idleSeconds: idleMs / 1000, sessions: streamable.size + sse.size }, "closed idle sessions");
        }, Math.max(10, Math.min(30_000, Math.floor(idleMs / 4))))
      : undefined;
  sweep?.unref();

  return {
    url,
    server,
    get sessionCount() {
      return streamable.size + sse.size + listening;
    },
    async close() {
      clearInterval(sweep);
      await Promise.all([...streamable.values()].map((e) => e.transport.close().catch(() => undefined)));
      await Promise.all([...sse.values()].map((e) => e.transport.close().catch(() => undefined)));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
