/**
 * What the console's server page shows: the file as it is in the registry (read-only), its
 * condition, the tools it serves with their input schemas, its recent calls (audit records, never
 * arguments), and the names it reads from the secret store with whether each is set (never a value).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RoutingTable } from "../gateway/routing-table.js";
import type { AuditRecord } from "../observe/audit-log.js";
import { MAX_FILE_BYTES } from "../registry/loader.js";
import { parseRegistryFile } from "../registry/parse-registry-file.js";
import { storeLookups } from "../registry/store-lookups.js";
import type { RegistryFile } from "../registry/types.js";
import type { SecretSource } from "../secrets/secret-source.js";
import type { SyncStatus } from "../sync/reconciler.js";
import type { Condition } from "./overview.js";
import { conditionOf } from "./overview.js";

export interface ServerSecret {
  name: string;
  /** Declared `isSecret` (otherwise a plain setting the file leaves to the store). */
  secret: boolean;
  required: boolean;
  description?: string;
  /** The store has a value for it (under its name or an alias). The value itself is never sent. */
  set: boolean;
}

export interface ServerView {
  prefix: string;
  name?: string;
  title?: string;
  description?: string;
  version?: string;
  file: string;
  /** The file's text as the registry holds it now (it may be newer than the serving version when stale). */
  fileText?: string;
  condition: Condition;
  reason: string;
  message: string;
  since: string;
  appliedRevision?: string;
  lifecycle: string;
  tools: { name: string; title?: string; description?: string; inputSchema: unknown; annotations?: unknown }[];
  secrets: ServerSecret[];
  recentCalls: AuditRecord[];
}

export interface ServerViewSources {
  status: SyncStatus;
  table: RoutingTable;
  /** The registry's root folder, where `file` paths resolve. */
  registryRoot: string | undefined;
  secrets: SecretSource;
  recentCalls(prefix: string): AuditRecord[];
}

export async function serverView(prefix: string, sources: ServerViewSources): Promise<ServerView | undefined> {
  const condition = sources.status.servers.find((s) => s.prefix === prefix);
  const routes = sources.table.servers.get(prefix);
  if (!condition && !routes) return undefined;
  const file = condition?.file ?? routes!.server.file;
  const root = routes?.server.root ?? sources.registryRoot;
  const fileText = root ? await readRegistryFile(root, file) : undefined;
  const entry = routes?.server.entry ?? documentOf(file, fileText);
  return {
    prefix,
    ...(entry?.name ? { name: entry.name } : {}),
    ...(entry?.title ? { title: entry.title } : {}),
    ...(entry?.description ? { description: entry.description } : {}),
    ...(entry?.version ? { version: entry.version } : {}),
    file,
    ...(fileText !== undefined ? { fileText } : {}),
    condition: condition ? conditionOf(condition) : "live",
    reason: condition?.reason ?? "Applied",
    message: condition?.message ?? "",
    since: condition?.since ?? "",
    ...(condition?.appliedRevision ? { appliedRevision: condition.appliedRevision } : {}),
    lifecycle: entry?.router?.lifecycle ?? "per-call",
    tools: (routes?.tools ?? []).map((t) => ({
      name: t.name,
      ...(t.title ? { title: t.title } : {}),
      ...(t.description ? { description: t.description } : {}),
      inputSchema: t.inputSchema,
      ...(t.annotations ? { annotations: t.annotations } : {}),
    })),
    secrets: entry ? declaredSecrets(entry, sources.secrets) : [],
    recentCalls: sources.recentCalls(prefix),
  };
}

/** A file that is not serving (refused, waiting for a secret) is described from its text on disk. */
export function documentOf(file: string, text: string | undefined): Readonly<RegistryFile> | undefined {
  if (text === undefined) return undefined;
  const parsed = parseRegistryFile(file, text);
  return parsed.entry ?? parsed.document;
}

/** Every name the file reads from the secret store, once each, with whether the store has it. */
export function declaredSecrets(entry: Readonly<RegistryFile>, store: SecretSource): ServerSecret[] {
  const byName = new Map<string, ServerSecret>();
  for (const lookup of storeLookups(entry)) {
    const set = [lookup.name, ...lookup.aliases].some((n) => store.get(n) !== undefined);
    const seen = byName.get(lookup.name);
    byName.set(lookup.name, {
      name: lookup.name,
      secret: lookup.secret || (seen?.secret ?? false),
      required: lookup.required || (seen?.required ?? false),
      ...(lookup.description ?? seen?.description ? { description: (lookup.description ?? seen?.description) as string } : {}),
      set,
    });
  }
  return [...byName.values()];
}

/** The file under the registry root (never outside it), or undefined when it cannot be read. */
export async function readRegistryFile(root: string, file: string): Promise<string | undefined> {
  const full = path.resolve(root, file);
  if (!full.startsWith(path.resolve(root) + path.sep)) return undefined;
  try {
    const text = await readFile(full, "utf8");
    return text.length > MAX_FILE_BYTES ? `${text.slice(0, MAX_FILE_BYTES)}\n# (cut: the file is larger than ${MAX_FILE_BYTES} bytes)` : text;
  } catch {
    return undefined;
  }
}
