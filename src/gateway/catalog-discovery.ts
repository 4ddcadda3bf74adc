/**
 * Background discovery at start-up: every enabled server whose version has no cached catalog is
 * started once (a few at a time), its catalog stored, and the table rebuilt and swapped in, so
 * it appears to clients (with list_changed) as soon as it is ready.
 */
import type { Logger } from "pino";
import type { RegistryServer } from "../registry/types.js";
import type { Catalog } from "./catalog.js";
import type { CatalogStore } from "./catalog-store.js";
import { buildRoutingTable } from "./routing-table.js";
import type { TableHolder } from "./table-holder.js";

export interface CatalogDiscovery {
  /** Settles when every missing catalog was discovered or failed. */
  readonly done: Promise<void>;
  /** Prefixes still waiting or being discovered. */
  pending(): string[];
  /** Prefix -> error message for servers whose discovery failed (retried at the next start). */
  failed(): ReadonlyMap<string, string>;
}

export interface DiscoveryOptions {
  servers: readonly RegistryServer[];
  store: CatalogStore;
  holder: TableHolder;
  /** Catalogs known already (from disk), by hash; discoveries are added to it. */
  catalogs: Map<string, Catalog>;
  logger: Logger;
  /** Servers discovered at once (default 2: this is background work). */
  concurrency?: number;
}

export function discoverMissingCatalogs(options: DiscoveryOptions): CatalogDiscovery {
  const { servers, store, holder, catalogs, logger } = options;
  // Servers whose registry file carries a reviewed `router.tools` catalog are served from it
  // without starting anything; the others are discovered once per version.
  const todo = servers.filter((s) => s.entry.router?.enabled !== false && !catalogs.has(s.hash) && !(s.entry.router?.tools?.length));
  const pending = new Set(todo.map((s) => s.prefix));
  const failed = new Map<string, string>();
  const log = logger.child({ component: "discovery" });
  if (todo.length > 0) log.info({ servers: todo.map((s) => s.prefix) }, `discovering ${todo.length} catalog(s) in the background`);
  let index = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const server = todo[index++];
      if (!server) return;
      try {
        const catalog = await store.discover(server, (message) => log.debug({ server: server.prefix }, message));
        catalogs.set(server.hash, catalog);
        holder.swap(buildRoutingTable(servers, catalogs));
      } catch (error) {
        const message = (error as Error).message;
        failed.set(server.prefix, message);
        log.warn({ server: server.prefix, err: message }, "catalog discovery failed; the server's tools stay unlisted (or from router.tools) until the next start");
      } finally {
        pending.delete(server.prefix);
        finished += 1;
        log.info({ server: server.prefix, progress: `${finished}/${todo.length}` }, "discovery progress");
      }
    }
  };
  const workers = Array.from({ length: Math.min(options.concurrency ?? 2, todo.length) }, () => worker());
  const done = Promise.all(workers).then(() => {
    if (todo.length > 0) log.info({ failed: failed.size }, "catalog discovery finished");
  });
  return { done, pending: () => [...pending], failed: () => failed };
}
