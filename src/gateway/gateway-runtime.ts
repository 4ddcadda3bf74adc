/**
 * Puts a gateway together from its collaborators: cached catalogs -> first routing table ->
 * gateway; missing catalogs are discovered in the background and swapped in.
 */
import type { Logger } from "pino";
import type { Launcher } from "../launch/launcher.js";
import type { RegistryServer } from "../registry/types.js";
import type { AccessFile } from "../registry/access-file.js";
import { AccessPolicy } from "../auth/access-policy.js";
import type { AuditLog } from "../observe/audit-log.js";
import type { CatalogDiscovery } from "./catalog-discovery.js";
import { discoverMissingCatalogs } from "./catalog-discovery.js";
import { CatalogStore } from "./catalog-store.js";
import { Gateway } from "./gateway.js";
import { loadTaskKey } from "./task-handles.js";
import type { GatewayMetrics } from "../observe/metrics.js";
import type { CallTracer } from "../observe/tracing.js";
import { buildRoutingTable } from "./routing-table.js";
import type { Scrub } from "../secrets/secret-scrubber.js";
import { TableHolder } from "./table-holder.js";

export interface GatewayRuntimeOptions {
  servers: readonly RegistryServer[];
  launcher: Launcher;
  /** Catalogs are cached in `<dataDir>/catalogs`. */
  dataDir: string;
  logger: Logger;
  hierarchical?: boolean;
  /** Discover missing catalogs in the background (default true). */
  discover?: boolean;
  discoveryConcurrency?: number;
  metrics?: GatewayMetrics;
  audit?: AuditLog;
  /** A span per upstream request (tracing on). */
  tracer?: CallTracer;
  /** Secret values -> `***` in errors sent to clients. */
  scrub?: Scrub;
}

export interface GatewayRuntime {
  gateway: Gateway;
  holder: TableHolder;
  store: CatalogStore;
  discovery: CatalogDiscovery;
  readiness(): { ready: boolean; detail: Record<string, unknown> };
  /**
   * Sync's "prepare" half for the gateway: makes sure the server version has a catalog (its
   * `router.tools`, the disk cache, or discovery in a container), so the table can list it.
   */
  ensureCatalog(server: RegistryServer): Promise<void>;
  /**
   * Builds the routing table for these servers and swaps it in (clients get list_changed).
   * `revision` (sync's) is remembered for each server version it first applied: logs and the audit log name it.
   * `access` is the registry's access policy (undefined: none; everyone may use everything).
   */
  apply(servers: readonly RegistryServer[], revision?: string, access?: AccessFile): Promise<void>;
  /** The registry revision a server version was applied from, if known. */
  revisionOf(server: RegistryServer): string | undefined;
}

export async function startGatewayRuntime(options: GatewayRuntimeOptions): Promise<GatewayRuntime> {
  const { servers, launcher, logger } = options;
  const store = new CatalogStore(options.dataDir, launcher, logger);
  const catalogs = await store.loadAll(servers);
  const holder = new TableHolder(buildRoutingTable(servers, catalogs));
  const table = holder.current();
  for (const conflict of table.conflicts) logger.warn({ conflict }, "name collision between servers; both kept under distinct names");
  logger.info({ servers: table.servers.size, tools: table.toolList.length, cachedCatalogs: catalogs.size }, "routing table built");
  /** Server version hash -> the revision that first applied it. */
  const revisions = new Map<string, string>();
  const revisionOf = (server: RegistryServer): string | undefined => revisions.get(server.hash);
  let appliedAccess = "null";
  const gateway = new Gateway({
    holder,
    launcher,
    logger,
    revisionOf,
    ...(options.hierarchical ? { hierarchical: true } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
    ...(options.scrub ? { scrub: options.scrub } : {}),
    taskKey: await loadTaskKey(options.dataDir),
  });
  const discovery =
    options.discover === false
      ? { done: Promise.resolve(), pending: () => [], failed: () => new Map<string, string>() }
      : discoverMissingCatalogs({ servers, store, holder, catalogs, logger, ...(options.discoveryConcurrency ? { concurrency: options.discoveryConcurrency } : {}) });
  return {
    gateway,
    holder,
    store,
    discovery,
    ensureCatalog: async (server) => {
      if (server.entry.router?.tools?.length || catalogs.has(server.hash)) return;
      const cached = await store.load(server);
      catalogs.set(server.hash, cached ?? (await store.discover(server, (message) => logger.debug({ server: server.prefix }, message))));
    },
    revisionOf,
    apply: async (next, revision, access) => {
      for (const [hash, catalog] of await store.loadAll(next)) catalogs.set(hash, catalog);
      const live = new Set(next.map((s) => s.hash));
      for (const hash of catalogs.keys()) if (!live.has(hash)) catalogs.delete(hash);
      store.retain(live);
      for (const hash of revisions.keys()) if (!live.has(hash)) revisions.delete(hash);
      if (revision !== undefined) for (const server of next) if (!revisions.has(server.hash)) revisions.set(server.hash, revision);
      const table = buildRoutingTable(next, catalogs);
      for (const conflict of table.conflicts) logger.warn({ conflict }, "name collision between servers; both kept under distinct names");
      // A new policy object only when its text changed: an unchanged one keeps its cached per-principal views.
      const accessText = JSON.stringify(access ?? null);
      if (accessText !== appliedAccess) {
        appliedAccess = accessText;
        gateway.setAccess(access ? new AccessPolicy(access) : AccessPolicy.OPEN);
        logger.info({ grants: access?.grants.length, limits: access?.limits?.length }, access ? "access policy applied" : "no access policy: everyone may use everything");
      }
      holder.swap(table);
    },
    readiness: () => {
      const pending = discovery.pending();
      return { ready: pending.length === 0, detail: { servers: holder.current().servers.size, tools: holder.current().toolList.length, discovering: pending, failed: Object.fromEntries(discovery.failed()) } };
    },
  };
}
