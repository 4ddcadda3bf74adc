/**
 * The daemon's egress proxy for servers with `router.network: {allow: [...]}`. Their containers
 * sit on a network with no route out; the only thing they can reach is a relay that forwards to
 * this proxy, and the proxy lets a connection through only when its host and port are on the
 * allowlist of the server whose credentials the request carries (`Proxy-Authorization`, a random
 * token per server version, given to its containers as `HTTP(S)_PROXY`).
 *
 * It speaks both proxy forms clients use: `CONNECT host:port` (HTTPS and any TCP) and plain HTTP
 * requests in absolute form (`GET http://host/path`). Denials are 403 with a body that says what
 * to add to the registry file; unknown credentials are 407. An allowed name is still refused when
 * it resolves only to loopback, private or link-local addresses, unless the operator policy allows
 * private targets (`target-guard.ts`).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo, LookupFunction, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { literalRefusal, publicLookup, TARGET_REFUSED } from "../target-guard.js";
import { EgressAllowlist } from "./egress-allowlist.js";

interface Grant {
  prefix: string;
  token: Buffer;
  allowlist: EgressAllowlist;
}

export interface EgressProxyOptions {
  /** Address to listen on (the Docker bridge's gateway, where the relay reaches the host). */
  host: string;
  port?: number;
  logger: Logger;
  /** Bound on connecting to an allowed target (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Allowed hosts may resolve to loopback, private and link-local addresses (operator policy
   * `network.privateTargets`). Default no: such a target is refused after resolving, so neither
   * `localhost:PORT` nor a name pointing at the metadata service reaches the host's network.
   */
  privateTargets?: boolean;
}

export interface EgressCounts {
  allowed: number;
  denied: number;
  unauthorized: number;
}

export class EgressProxy {
  private readonly grants = new Map<string, Grant>();
  private readonly sockets = new Set<Duplex>();
  readonly counts: EgressCounts = { allowed: 0, denied: 0, unauthorized: 0 };

  private constructor(
    private readonly server: Server,
    private readonly options: EgressProxyOptions,
  ) {}

  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const server = createServer();
    const proxy = new EgressProxy(server, options);
    server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.tunnel(req, socket, head));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => proxy.forward(req, res));
    server.on("connection", (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.once("close", () => proxy.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Lets containers that present the returned credentials reach the hosts on `allow`.
   * One grant per server version (`key`); granting the same key again returns the same token.
   */
  grant(key: string, prefix: string, allow: readonly string[] | "public"): string {
    const existing = this.grants.get(key);
    if (existing) return `${encodeURIComponent(existing.prefix)}:${existing.token.toString("hex")}`;
    const token = randomBytes(24);
    this.grants.set(key, { prefix, token, allowlist: new EgressAllowlist(allow) });
    return `${encodeURIComponent(prefix)}:${token.toString("hex")}`;
  }

  revoke(key: string): void {
    this.grants.delete(key);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The grant whose token the request presents, compared in constant time. */
  private authorize(req: IncomingMessage): Grant | undefined {
    const header = req.headers["proxy-authorization"];
    const match = typeof header === "string" ? /^Basic\s+(\S+)$/i.exec(header) : null;
    if (!match) return undefined;
    const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
    const token = Buffer.from(decoded.slice(decoded.indexOf(":") + 1), "hex");
    for (const grant of this.grants.values()) {
      if (grant.token.length === token.length && timingSafeEqual(grant.token, token)) return grant;
    }
    return undefined;
  }

  /** Decides; on refusal answers 407/403 through `refuse` and returns undefined. */
  private decide(req: IncomingMessage, host: string, port: number, refuse: (status: number, text: string) => void): Grant | undefined {
    const grant = this.authorize(req);
    if (!grant) {
      this.counts.unauthorized += 1;
      refuse(407, "mcp-router egress: missing or unknown proxy credentials\n");
      return undefined;
    }
    if (!grant.allowlist.allows(host, port)) {
      this.counts.denied += 1;
      this.options.logger.warn({ server: grant.prefix, host, port }, "egress denied: not on the server's network allowlist");
      refuse(
        403,
        grant.allowlist.patterns === "public"
          ? `mcp-router egress: server ${grant.prefix} has \`network: public\`, which allows only ports 80 and 443; ${host}:${port} is refused.\n`
          : `mcp-router egress: ${host}:${port} is not on the network allowlist of server ${grant.prefix} (${grant.allowlist.patterns.join(", ")}).\n` +
            `Add it to router.network.allow in the server's registry file (without :port only 80 and 443 are allowed).\n`,
      );
      return undefined;
    }
    this.counts.allowed += 1;
    this.options.logger.debug({ server: grant.prefix, host, port }, "egress allowed");
    return grant;
  }

  /** The resolver for connections: public addresses only, unless the policy allows private targets. */
  private lookup(): { lookup?: LookupFunction } {
    return this.options.privateTargets ? {} : { lookup: publicLookup };
  }

  /** A literal private address (no lookup runs for those) is refused here; true when it was. */
  private refusedTarget(host: string, refuse: (status: number, text: string) => void): boolean {
    const refusal = this.options.privateTargets ? undefined : literalRefusal(host);
    if (!refusal) return false;
    this.counts.denied += 1;
    refuse(403, `mcp-router egress: ${refusal.message}\n`);
    return true;
  }

  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const target = parseAuthority(req.url ?? "");
    const reply = (status: number, text: string): void => {
      client.end(`HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n${status === 407 ? 'Proxy-Authenticate: Basic realm="mcp-router"\r\n' : ""}\r\n${text}`);
    };
    client.on("error", () => undefined);
    if (!target) return reply(400, "mcp-router egress: CONNECT needs host:port\n");
    if (!this.decide(req, target.host, target.port, reply)) return;
    const refused = this.refusedTarget(target.host, reply);
    if (refused) return;
    const upstream = connect({ host: target.host, port: target.port, timeout: this.options.connectTimeoutMs ?? 10_000, ...this.lookup() });
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      upstream.setTimeout(0);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once("timeout", () => upstream.destroy(new Error("connect timeout")));
    upstream.on("error", (error) => {
      if (!connected) reply((error as NodeJS.ErrnoException).code === TARGET_REFUSED ? 403 : 502, `mcp-router egress: cannot connect to ${target.host}:${target.port}: ${error.message}\n`);
      else client.destroy();
    });
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { "content-type": "text/plain", ...(status === 407 ? { "proxy-authenticate": 'Basic realm="mcp-router"' } : {}) }).end(text);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      return reply(400, "mcp-router egress: this is a proxy; send absolute http:// URLs, or CONNECT for https\n");
    }
    if (url.protocol !== "http:") return reply(400, "mcp-router egress: only http:// URLs are forwarded; use CONNECT for https\n");
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(url.port || 80);
    if (!this.decide(req, host, port, reply)) return;
    if (this.refusedTarget(host, reply)) return;
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest({ host, port, method: req.method, path: `${url.pathname}${url.search}`, headers, timeout: this.options.connectTimeoutMs ?? 10_000, ...this.lookup() }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.once("timeout", () => upstream.destroy(new Error("timeout")));
    upstream.on("error", (error) => {
      if (!res.headersSent) reply((error as NodeJS.ErrnoException).code === TARGET_REFUSED ? 403 : 502, `mcp-router egress: cannot reach ${host}:${port}: ${error.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  }
}

/** `host:port` or `[v6]:port` of a CONNECT request. */
function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2] ?? "").toLowerCase(), port };
}

function statusText(status: number): string {
  return ({ 400: "Bad Request", 403: "Forbidden", 407: "Proxy Authentication Required", 502: "Bad Gateway" } as Record<number, string>)[status] ?? "Error";
}
