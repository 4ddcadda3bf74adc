/**
 * The console's secrets page: every name some registry file reads from the secret store (serving
 * or not: a server waiting for a secret is the reason to come here), which servers read it, and
 * whether a value is set and where (the console's own store, or what the operator granted
 * otherwise). Never a value.
 */
import type { RoutingTable } from "../gateway/routing-table.js";
import type { RegistryFile } from "../registry/types.js";
import type { WritableSecretStore } from "../secrets/console-secret-store.js";
import type { SecretSource } from "../secrets/secret-source.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { declaredSecrets, documentOf, readRegistryFile } from "./server-view.js";

export interface SecretRow {
  name: string;
  servers: string[];
  secret: boolean;
  required: boolean;
  description?: string;
  set: boolean;
  /** Where the value comes from: the console's store (which it can replace or remove), or the operator's grants. */
  source?: "console" | "operator";
}

export interface SecretsSources {
  status: SyncStatus;
  table: RoutingTable;
  registryRoot: string | undefined;
  /** Everything granted: the console's store first, then the operator's. */
  secrets: SecretSource;
  store: WritableSecretStore;
}

export async function secretsView(sources: SecretsSources): Promise<SecretRow[]> {
  const rows = new Map<string, SecretRow>();
  for (const { prefix, entry } of await registryEntries(sources)) {
    for (const s of declaredSecrets(entry, sources.secrets)) {
      const row = rows.get(s.name) ?? { name: s.name, servers: [], secret: false, required: false, set: s.set };
      if (!row.servers.includes(prefix)) row.servers.push(prefix);
      row.secret ||= s.secret;
      row.required ||= s.required;
      if (!row.description && s.description) row.description = s.description;
      rows.set(s.name, row);
    }
  }
  for (const row of rows.values()) {
    if (sources.store.has(row.name)) row.source = "console";
    else if (row.set) row.source = "operator";
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The names some registry file declares, for refusing a value nobody asked for. */
export async function declaredNames(sources: SecretsSources): Promise<Set<string>> {
  return new Set((await secretsView(sources)).map((r) => r.name));
}

/**
 * Every registry file's document: the serving version, and the file on disk for one that is not
 * serving or serves an older version (stale: its new file may ask for a secret it is waiting for).
 */
async function registryEntries(sources: SecretsSources): Promise<{ prefix: string; entry: Readonly<RegistryFile> }[]> {
  const out: { prefix: string; entry: Readonly<RegistryFile> }[] = [];
  const seen = new Set<string>();
  for (const routes of sources.table.servers.values()) {
    out.push({ prefix: routes.server.prefix, entry: routes.server.entry });
    seen.add(routes.server.prefix);
  }
  for (const condition of sources.status.servers) {
    if ((seen.has(condition.prefix) && !condition.stale) || !sources.registryRoot) continue;
    const entry = documentOf(condition.file, await readRegistryFile(sources.registryRoot, condition.file));
    if (entry) out.push({ prefix: condition.prefix, entry });
  }
  return out;
}
