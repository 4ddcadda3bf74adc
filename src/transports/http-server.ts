/**
 * The gateway over HTTP: Streamable HTTP at `/mcp`, legacy SSE at `/sse` + `/messages`, one
 * server under its original names at `/servers/<prefix>/mcp`, `/healthz` / `/readyz`, and the
 * Prometheus metrics at `/metrics`. Every MCP endpoint and `/metrics` require a bearer key (unless
 * auth is off on a loopback bind) and pass Host/Origin checks against DNS rebinding.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import { bearerMatches, isLoopback } from "./api-keys.js";
import { ConfigError } from "../config-error.js";
import type { Gateway, GatewaySession, SessionScope } from "../gateway/gateway.js";
import { keepStreamAlive } from "./sse-keepalive.js";
import { StreamableHttpTransport } from "./streamable-http-transport.js";

export interface HttpGatewayOptions {
  gateway: Gateway;
  logger: Logger;
  host: string;
  port: number;
  /** Accepted bearer keys; `undefined` = auth off (only allowed on a loopback bind). */
  apiKeys: readonly string[] | undefined;
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
  /**
   * More routes, by exact path (e.g. `/status`, `/hooks/github` from sync). `public` routes skip
   * the bearer check and must authenticate requests themselves (a webhook's signature).
   */
  routes?: Readonly<Record<string, { method: string; public?: boolean; handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void }>>;
  /** Served as `GET /metrics` (behind the bearer check) when given: a `GatewayMetrics`. */
  metrics?: { readonly contentType: string; render(): Promise<string> };
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
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, "request body is not valid JSON"));
      }
    });
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function rpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null }, headers);
}

/**
 * The id of the key a request authenticated with, for the audit log: the first 8 hex chars of the
 * key's sha256 (`printf %s "$KEY" | sha256sum | cut -c1-8` names it), never the key.
 */
export function apiKeyId(authorization: string | undefined): string {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  return token ? createHash("sha256").update(token).digest("hex").slice(0, 8) : "none";
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
  if (isLoopback(bindHost)) for (const h of ["localhost", "127.0.0.1", "[::1]"]) add(h);
  for (const h of extra) names.add(h.toLowerCase());
  return names;
}

/** Starts listening; resolves once bound (port 0 picks a free port). */
export async function startHttpGateway(options: HttpGatewayOptions): Promise<HttpGateway> {
  const { gateway, logger } = options;
  if (options.apiKeys === undefined && !isLoopback(options.host)) {
    throw new ConfigError(
      "NO_AUTH_NOT_LOOPBACK",
      `--no-auth is refused on ${options.host}: anyone who can reach that address could run every server`,
      "Bind to 127.0.0.1 (the default) for --no-auth, or keep auth on and give clients an API key.",
    );
  }
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const streamable = new Map<string, StreamableEntry>();
  const sse = new Map<string, { transport: SSEServerTransport; session: GatewaySession }>();
  /** Filled once the port is known. */
  const access: { hosts: Set<string> | undefined; origins: Set<string> } = { hosts: undefined, origins: new Set() };
  const log = logger.child({ component: "http" });
  const keyIdOf = (req: IncomingMessage): string => (options.apiKeys === undefined ? "none" : apiKeyId(req.headers.authorization));

  function checkAccess(req: IncomingMessage): void {
    const host = (req.headers.host ?? "").toLowerCase();
    if (access.hosts && !access.hosts.has(host)) throw new HttpError(403, `Host "${host}" is not allowed (DNS rebinding protection); add it with --allow-host`);
    const origin = req.headers.origin;
    if (origin !== undefined && !access.origins.has(origin.toLowerCase())) {
      throw new HttpError(403, `Origin "${origin}" is not allowed; add it with --allow-origin`);
    }
    if (options.apiKeys !== undefined && !bearerMatches(req.headers.authorization, options.apiKeys)) {
      throw new HttpError(401, req.headers.authorization ? "invalid API key" : "missing bearer token: send Authorization: Bearer <api key>");
    }
  }

  async function handleStreamable(req: IncomingMessage, res: ServerResponse, scope: SessionScope): Promise<void> {
    const scopeKey = scope.kind === "all" ? "*" : scope.prefix;
    const body = req.method === "POST" ? await readBody(req, maxBody) : undefined;
    const sid = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(sid) ? sid[0] : sid;
    if (sessionId) {
      const entry = streamable.get(sessionId);
      if (!entry || entry.scopeKey !== scopeKey) return rpcError(res, 404, -32001, "session not found; initialize a new session");
      entry.transport.handle(req, res, body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      return rpcError(res, 400, -32000, "no mcp-session-id header: the first request of a session must be initialize");
    }
    if (scope.kind === "server" && !gateway.holder.current().servers.has(scope.prefix)) {
      return rpcError(res, 404, -32002, `no server "${scope.prefix}" in the registry`);
    }
    const id = randomUUID();
    const session = gateway.createSession({ sessionId: id, scope, transport: "streamable-http", keyId: keyIdOf(req) });
    const transport = new StreamableHttpTransport(id, options.sseKeepAliveMs);
    streamable.set(id, { transport, session, scopeKey });
    transport.onclose = () => {
      streamable.delete(id);
      void session.close();
    };
    await session.server.connect(transport);
    transport.handle(req, res, body);
  }

  async function handleSse(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const transport = new SSEServerTransport("/messages", res);
    const session = gateway.createSession({ sessionId: transport.sessionId, transport: "sse", keyId: keyIdOf(req) });
    sse.set(transport.sessionId, { transport, session });
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

  async function handleMessages(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const id = url.searchParams.get("sessionId") ?? "";
    const entry = sse.get(id);
    if (!entry) return rpcError(res, 404, -32001, "unknown SSE session; open /sse first");
    const body = await readBody(req, maxBody);
    await entry.transport.handlePostMessage(req, res, body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://gateway.invalid");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/healthz" && req.method === "GET") return sendJson(res, 200, { ok: true });
    if (path === "/readyz" && req.method === "GET") {
      const state = options.readiness?.() ?? { ready: true };
      return sendJson(res, state.ready ? 200 : 503, { ready: state.ready, ...state.detail });
    }
    const extra = options.routes?.[path];
    if (extra && req.method === extra.method) {
      if (!extra.public) checkAccess(req);
      return extra.handle(req, res);
    }
    checkAccess(req);
    if (path === "/metrics" && req.method === "GET" && options.metrics) {
      const text = await options.metrics.render();
      res.writeHead(200, { "content-type": options.metrics.contentType }).end(text);
      return;
    }
    if (path === "/mcp") return handleStreamable(req, res, { kind: "all" });
    const perServer = /^\/servers\/([^/]+)\/mcp$/.exec(path);
    if (perServer?.[1]) return handleStreamable(req, res, { kind: "server", prefix: decodeURIComponent(perServer[1]) });
    if (path === "/sse" && req.method === "GET") return handleSse(req, res);
    if (path === "/messages" && req.method === "POST") return handleMessages(req, res, url);
    return sendJson(res, 404, { error: `no endpoint ${req.method} ${path}; MCP is at /mcp (Streamable HTTP) and /sse (legacy SSE)` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        if (error.status >= 400 && error.status !== 404) log.warn({ status: error.status, method: req.method, path: req.url?.split("?")[0] }, error.message);
        const headers: Record<string, string> = error.status === 401 ? { "www-authenticate": 'Bearer realm="mcp-router"' } : {};
        return rpcError(res, error.status, -32000, error.message, headers);
      }
      log.error({ err: (error as Error).message, path: req.url?.split("?")[0] }, "request failed");
      rpcError(res, 500, -32603, "internal error");
    });
  });
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
  access.hosts = hostsFor(options.host, address.port, options.allowedHosts ?? []);
  access.origins = new Set(
    [
      ...(isLoopback(options.host) ? ["localhost", "127.0.0.1", "[::1]"].map((h) => `http://${h}:${address.port}`) : []),
      ...(options.allowedOrigins ?? []),
    ].map((o) => o.toLowerCase()),
  );
  log.info({ url: url.href, auth: options.apiKeys !== undefined }, "gateway listening");

  return {
    url,
    server,
    get sessionCount() {
      return streamable.size + sse.size;
    },
    async close() {
      await Promise.all([...streamable.values()].map((e) => e.transport.close().catch(() => undefined)));
      await Promise.all([...sse.values()].map((e) => e.transport.close().catch(() => undefined)));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
