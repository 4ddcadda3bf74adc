/**
 * The registry, read-only, as the MCP Generic Registry API (the `2025-12-01` OpenAPI description,
 * `/v0.1/`): `GET /v0.1/servers` (cursor pagination, `search` by name substring, `version`,
 * `updated_since`), `GET /v0.1/servers/{name}/versions`, `GET /v0.1/servers/{name}/versions/{version}`
 * (`latest` allowed). What it lists is what the gateway serves: each applied registry file is one
 * server version, exported as its `server.json` (without `router:`). Behind the gateway's auth:
 * the bearer key, or a console session. Errors are `{"error": "..."}` as the API describes them.
 * "Publishing" is a pull request to the registry repository, not an endpoint here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RoutingTable } from "../gateway/routing-table.js";
import { toServerJson } from "../registry/server-json.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { SECURITY_HEADERS } from "./console-http.js";

export const REGISTRY_API_PREFIX = "/v0.1/";
const OFFICIAL_META = "io.modelcontextprotocol.registry/official";
/** Our own `_meta` key on each entry: where the gateway serves it. */
const GATEWAY_META = "dev.mcp-router/gateway";
const DEFAULT_LIMIT = 30;
const MAX_LIMIT = 100;

interface Version {
  name: string;
  version: string;
  prefix: string;
  server: Record<string, unknown>;
  updatedAt: string;
}

export interface ServerResponseBody {
  server: Record<string, unknown>;
  _meta: Record<string, unknown>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers a `/v0.1/...` request (already authenticated) from the current table and status. */
export function serveRegistryApi(req: IncomingMessage, res: ServerResponse, url: URL, sources: { table: RoutingTable; status: SyncStatus }): void {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") throw new ApiError(405, `${req.method} is not supported: this registry is read-only (publish by opening a pull request to the registry repository)`);
    const segments = url.pathname.slice(REGISTRY_API_PREFIX.length).replace(/\/+$/, "").split("/").map(decode);
    const versions = allVersions(sources.table, sources.status);
    if (segments.length === 1 && segments[0] === "servers") return send(res, 200, list(versions, url.searchParams));
    if (segments.length >= 3 && segments[0] === "servers" && segments[2] === "versions") {
      const name = segments[1]!;
      const own = versions.filter((v) => v.name === name);
      if (own.length === 0) throw new ApiError(404, `Server not found: no server named "${name}" is served (names are URL-encoded in paths, e.g. com.example%2Fmy-server)`);
      if (segments.length === 3) return send(res, 200, { servers: [...own].sort((a, b) => compareVersions(b.version, a.version)).map((v) => response(v, own)), metadata: { count: own.length } });
      if (segments.length === 4) {
        const wanted = segments[3]!;
        const found = wanted === "latest" ? latestOf(own) : own.find((v) => v.version === wanted);
        if (!found) throw new ApiError(404, `Server version not found: "${name}" has ${own.map((v) => v.version).join(", ")}`);
        return send(res, 200, response(found, own));
      }
    }
    throw new ApiError(404, `no registry endpoint ${url.pathname}; see /v0.1/servers, /v0.1/servers/{serverName}/versions and /v0.1/servers/{serverName}/versions/{version}`);
  } catch (error) {
    if (error instanceof ApiError) return send(res, error.status, { error: error.message });
    throw error;
  }
}

function allVersions(table: RoutingTable, status: SyncStatus): Version[] {
  const since = new Map(status.servers.map((s) => [s.prefix, s.since]));
  return [...table.servers.values()].map(({ server }) => ({
    name: server.entry.name,
    version: server.entry.version,
    prefix: server.prefix,
    server: toServerJson(server.entry as never),
    updatedAt: since.get(server.prefix) ?? status.lastAppliedAt ?? new Date(0).toISOString(),
  }));
}

function list(all: readonly Version[], params: URLSearchParams): { servers: ServerResponseBody[]; metadata: { count: number; nextCursor?: string } } {
  const limitText = params.get("limit");
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new ApiError(400, `limit "${limitText}" is not a positive whole number (at most ${MAX_LIMIT})`);
  const search = params.get("search")?.toLowerCase();
  const version = params.get("version");
  const updatedSince = params.get("updated_since");
  const since = updatedSince === null ? undefined : Date.parse(updatedSince);
  if (since !== undefined && Number.isNaN(since)) throw new ApiError(400, `updated_since "${updatedSince}" is not an RFC 3339 date-time (e.g. 2025-08-07T13:15:04.280Z)`);
  const byName = groupByName(all);
  let matching = all.filter(
    (v) =>
      (!search || v.name.toLowerCase().includes(search)) &&
      (!version || (version === "latest" ? latestOf(byName.get(v.name)!) === v : v.version === version)) &&
      (since === undefined || Date.parse(v.updatedAt) >= since),
  );
  matching = [...matching].sort((a, b) => a.name.localeCompare(b.name) || compareVersions(a.version, b.version));
  const cursor = params.get("cursor");
  if (cursor !== null) {
    const after = decodeCursor(cursor);
    matching = matching.filter((v) => v.name.localeCompare(after.name) > 0 || (v.name === after.name && compareVersions(v.version, after.version) > 0));
  }
  const page = matching.slice(0, Math.min(limit, MAX_LIMIT));
  const last = page.at(-1);
  const more = matching.length > page.length && last !== undefined;
  return {
    servers: page.map((v) => response(v, byName.get(v.name)!)),
    metadata: { count: page.length, ...(more ? { nextCursor: encodeCursor(last) } : {}) },
  };
}

function response(v: Version, siblings: readonly Version[]): ServerResponseBody {
  return {
    server: v.server,
    _meta: {
      [OFFICIAL_META]: { status: "active", publishedAt: v.updatedAt, updatedAt: v.updatedAt, isLatest: latestOf(siblings) === v },
      [GATEWAY_META]: { prefix: v.prefix, endpoint: `/servers/${encodeURIComponent(v.prefix)}/mcp` },
    },
  };
}

function groupByName(all: readonly Version[]): Map<string, Version[]> {
  const map = new Map<string, Version[]>();
  for (const v of all) map.set(v.name, [...(map.get(v.name) ?? []), v]);
  return map;
}

function latestOf(versions: readonly Version[]): Version | undefined {
  return versions.reduce<Version | undefined>((best, v) => (!best || compareVersions(v.version, best.version) > 0 ? v : best), undefined);
}

/**
 * Semantic versions compared by their numbers, a pre-release below its release; anything else
 * falls back to text order (the API allows non-semantic versions, which "may not sort predictably").
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)(?:-([^+]+))?(?:\+.*)?$/.exec(v);
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return a.localeCompare(b);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  if (pa[4] === pb[4]) return 0;
  if (pa[4] === undefined) return 1;
  if (pb[4] === undefined) return -1;
  return pa[4].localeCompare(pb[4], undefined, { numeric: true });
}

/** Opaque to clients: where the previous page ended. */
function encodeCursor(v: Version): string {
  return Buffer.from(JSON.stringify([v.name, v.version])).toString("base64url");
}

function decodeCursor(cursor: string): { name: string; version: string } {
  try {
    const [name, version] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof name === "string" && typeof version === "string") return { name, version };
  } catch {
    // Reported below.
  }
  throw new ApiError(400, "cursor is not one this registry returned; use metadata.nextCursor from the previous page as it is");
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `"${segment}" is not valid percent-encoding`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }).end(JSON.stringify(body));
}
