/**
 * What the console's overview shows, drawn from the sync status the daemon already keeps (the
 * same object `/status` serves) and the routing table: revisions, each server's condition with its
 * reason, and what the last reloads changed (kept here, from one status to the next).
 */
import type { RoutingTable } from "../gateway/routing-table.js";
import type { ServerCondition, SyncStatus } from "../sync/reconciler.js";

/** How a server stands, in the words the console uses. */
export type Condition = "live" | "preparing" | "failed" | "stale" | "disabled";

export interface OverviewServer {
  prefix: string;
  name?: string;
  title?: string;
  file: string;
  condition: Condition;
  reason: ServerCondition["reason"];
  message: string;
  since: string;
  appliedRevision?: string;
  tools: number;
}

export interface Reload {
  at: string;
  revision?: string;
  /** The revision was applied (false: it could not be read, or some files were refused). */
  ok: boolean;
  error?: string;
  changes: { prefix: string; change: "added" | "removed" | "updated" | "condition"; from?: Condition; to?: Condition }[];
}

/** The sync status's revisions and readiness as `/status` gives them, with every server's condition and the recent reloads. */
export interface Overview extends Pick<SyncStatus, "source" | "ready" | "settled" | "lastAttemptedRevision" | "lastAppliedRevision" | "lastAttemptAt" | "lastAppliedAt" | "lastError"> {
  servers: OverviewServer[];
  reloads: Reload[];
}

export function conditionOf(server: Pick<ServerCondition, "reason" | "serving" | "stale">): Condition {
  if (server.reason === "Disabled") return "disabled";
  if (server.serving && server.stale) return "stale";
  if (server.reason === "Preparing") return "preparing";
  if (server.serving && server.reason === "Applied") return "live";
  return "failed";
}

export function overviewOf(status: SyncStatus, table: RoutingTable, reloads: readonly Reload[]): Overview {
  return {
    source: status.source,
    ready: status.ready,
    settled: status.settled,
    ...pick(status, ["lastAttemptedRevision", "lastAppliedRevision", "lastAttemptAt", "lastAppliedAt", "lastError"]),
    servers: status.servers
      .map((s) => {
        const routes = table.servers.get(s.prefix);
        const entry = routes?.server.entry;
        return {
          prefix: s.prefix,
          ...(entry ? { name: entry.name } : {}),
          ...(entry?.title ? { title: entry.title } : {}),
          file: s.file,
          condition: conditionOf(s),
          reason: s.reason,
          message: s.message,
          since: s.since,
          ...(s.appliedRevision ? { appliedRevision: s.appliedRevision } : {}),
          tools: routes?.tools.length ?? 0,
        };
      })
      .sort((a, b) => a.prefix.localeCompare(b.prefix)),
    reloads: [...reloads],
  };
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

/** The last reloads (newest first): each reconcile that changed a revision, a server, or failed. */
export class ReloadHistory {
  readonly #reloads: Reload[] = [];
  #previous: SyncStatus | undefined;

  constructor(private readonly keep = 20) {}

  get reloads(): readonly Reload[] {
    return this.#reloads;
  }

  observe(status: SyncStatus): void {
    const previous = this.#previous;
    this.#previous = status;
    if (!status.lastAttemptAt) return;
    const changes = diff(previous?.servers ?? [], status.servers);
    const failedNow = status.lastError !== undefined && status.lastError.at !== previous?.lastError?.at;
    const revisionMoved = status.lastAttemptedRevision !== previous?.lastAttemptedRevision || status.lastAppliedRevision !== previous?.lastAppliedRevision;
    if (changes.length === 0 && !failedNow && !revisionMoved) return; // a poll or a settle that changed nothing
    this.#reloads.unshift({
      at: status.lastAttemptAt,
      ...(status.lastAttemptedRevision ? { revision: status.lastAttemptedRevision } : {}),
      ok: !failedNow && !status.servers.some((s) => conditionOf(s) === "failed" || conditionOf(s) === "stale"),
      ...(failedNow && status.lastError ? { error: status.lastError.message } : {}),
      changes,
    });
    this.#reloads.length = Math.min(this.#reloads.length, this.keep);
  }
}

function diff(before: readonly ServerCondition[], after: readonly ServerCondition[]): Reload["changes"] {
  const old = new Map(before.map((s) => [s.prefix, s]));
  const changes: Reload["changes"] = [];
  for (const s of after) {
    const was = old.get(s.prefix);
    old.delete(s.prefix);
    const to = conditionOf(s);
    if (!was) changes.push({ prefix: s.prefix, change: "added", to });
    else if (was.hash !== s.hash && s.hash !== undefined) changes.push({ prefix: s.prefix, change: "updated", from: conditionOf(was), to });
    else if (conditionOf(was) !== to) changes.push({ prefix: s.prefix, change: "condition", from: conditionOf(was), to });
  }
  for (const prefix of old.keys()) changes.push({ prefix, change: "removed" });
  return changes;
}
