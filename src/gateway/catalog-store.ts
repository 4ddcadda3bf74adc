/**
 * Catalogs on disk: one JSON file per server version under `<dataDir>/catalogs/`, written after
 * a discovery (a lease: list tools, resources, templates, prompts; release). `tools/list` only
 * ever reads what is here, so it never starts a container. The era the launcher found for the
 * version is kept in it, and handed back to the launcher when a cached catalog is loaded.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode, ListPromptsResultSchema, ListResourcesResultSchema, ListResourceTemplatesResultSchema, ListToolsResultSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "pino";
import type { KnownEra, Launcher, UpstreamClient } from "../launch/launcher.js";
import type { RegistryServer } from "../registry/types.js";
import type { Catalog } from "./catalog.js";

const NO_TIMEOUT = 2 ** 31 - 1;

async function all<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(cursor);
    out.push(...page.items);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < 100);
  return out;
}

/** Asks a connected server for everything it lists. */
export async function listEverything(client: UpstreamClient, hash: string, signal: AbortSignal): Promise<Catalog> {
  const caps = client.serverCapabilities() ?? {};
  const opts = { signal, timeout: NO_TIMEOUT };
  const tools: Tool[] = caps.tools ? await all(async (cursor) => {
    const r = await client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, ListToolsResultSchema, opts);
    return { items: r.tools, nextCursor: r.nextCursor };
  }) : [];
  const resources: Resource[] = caps.resources ? await all(async (cursor) => {
    const r = await client.request({ method: "resources/list", params: cursor ? { cursor } : {} }, ListResourcesResultSchema, opts);
    return { items: r.resources, nextCursor: r.nextCursor };
  }) : [];
  // Templates are optional under the resources capability: a server without them answers -32601.
  const resourceTemplates: ResourceTemplate[] = caps.resources
    ? await all(async (cursor) => {
        const r = await client.request({ method: "resources/templates/list", params: cursor ? { cursor } : {} }, ListResourceTemplatesResultSchema, opts);
        return { items: r.resourceTemplates, nextCursor: r.nextCursor };
      }).catch((error: unknown) => {
        if (error instanceof McpError && error.code === ErrorCode.MethodNotFound) return [];
        throw error;
      })
    : [];
  const prompts: Prompt[] = caps.prompts ? await all(async (cursor) => {
    const r = await client.request({ method: "prompts/list", params: cursor ? { cursor } : {} }, ListPromptsResultSchema, opts);
    return { items: r.prompts, nextCursor: r.nextCursor };
  }) : [];
  return {
    hash,
    tools,
    resources,
    resourceTemplates,
    prompts,
    completions: caps.completions !== undefined,
    logging: caps.logging !== undefined,
    source: "discovered",
    discoveredAt: new Date().toISOString(),
  };
}

/** A kept era as written by `discover` (a file edited by hand or by an older build is checked, not trusted). */
function isKnownEra(value: unknown): value is KnownEra {
  if (typeof value !== "object" || value === null) return false;
  const era = value as { kind?: unknown; discover?: { supportedVersions?: unknown; capabilities?: unknown } };
  if (era.kind === "legacy") return true;
  return era.kind === "modern" && typeof era.discover === "object" && era.discover !== null && Array.isArray(era.discover.supportedVersions) && typeof era.discover.capabilities === "object";
}

export class CatalogStore {
  private readonly dir: string;
  private readonly memory = new Map<string, Catalog>();

  constructor(dataDir: string, private readonly launcher: Launcher, private readonly logger: Logger) {
    this.dir = join(dataDir, "catalogs");
  }

  private file(server: RegistryServer): string {
    return join(this.dir, `${server.prefix}-${server.hash.slice(0, 16)}.json`);
  }

  /**
   * The cached catalog of this server version, if discovered before (memory, then disk). A kept
   * era is handed to the launcher on the way (it connects from it, with no probe).
   */
  async load(server: RegistryServer): Promise<Catalog | undefined> {
    const known = this.memory.get(server.hash);
    if (known) return known;
    let parsed: Catalog;
    try {
      parsed = JSON.parse(await readFile(this.file(server), "utf8")) as Catalog;
    } catch {
      return undefined;
    }
    if (parsed.hash !== server.hash || !Array.isArray(parsed.tools)) return undefined;
    if (parsed.era !== undefined && !isKnownEra(parsed.era)) delete parsed.era;
    this.memory.set(server.hash, parsed);
    if (parsed.era) this.launcher.adoptEra?.(server, parsed.era);
    return parsed;
  }

  /** Starts the server once (prepare + one lease), lists what it offers, caches it. */
  async discover(server: RegistryServer, onProgress?: (message: string) => void): Promise<Catalog> {
    const log = this.logger.child({ server: server.prefix });
    const t0 = performance.now();
    await this.launcher.prepare(server, (message) => {
      log.info({ step: "prepare" }, message);
      onProgress?.(message);
    });
    // A session of its own, ended right after: a per-session or shared container started for
    // discovery does not linger.
    const sessionId = `mcp-router-discovery-${randomUUID()}`;
    const lease = await this.launcher.acquire(server, { sessionId });
    let catalog: Catalog;
    try {
      catalog = await lease.run((client, signal) => listEverything(client, server.hash, signal));
    } finally {
      lease.release();
      await this.launcher.endSession(sessionId).catch(() => undefined);
    }
    const era = this.launcher.eraOf?.(server);
    if (era) catalog.era = era;
    await mkdir(this.dir, { recursive: true });
    const file = this.file(server);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(catalog));
    await rename(tmp, file);
    this.memory.set(server.hash, catalog);
    log.info(
      { tools: catalog.tools.length, resources: catalog.resources.length, prompts: catalog.prompts.length, ...(era ? { era: era.kind } : {}), ms: Math.round(performance.now() - t0) },
      "catalog discovered",
    );
    return catalog;
  }

  /** Drops in-memory catalogs of versions no longer served (the files on disk stay). */
  retain(hashes: ReadonlySet<string>): void {
    for (const hash of this.memory.keys()) if (!hashes.has(hash)) this.memory.delete(hash);
  }

  /** Every cached catalog of these servers, by hash. */
  async loadAll(servers: readonly RegistryServer[]): Promise<Map<string, Catalog>> {
    const out = new Map<string, Catalog>();
    await Promise.all(
      servers.map(async (s) => {
        const c = await this.load(s);
        if (c) out.set(s.hash, c);
      }),
    );
    return out;
  }
}
