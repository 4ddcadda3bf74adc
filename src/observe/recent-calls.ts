/**
 * The last audit records of each server, kept in memory for the web console's server page. It is
 * an AuditLog in front of the real one (if any): every record is passed on unchanged. Records
 * carry names, ids and timings only (never arguments), so they are safe to show.
 */
import type { AuditLog, AuditRecord } from "./audit-log.js";

export const RECENT_CALLS_PER_SERVER = 50;

export class RecentCalls implements AuditLog {
  readonly #byServer = new Map<string, AuditRecord[]>();

  constructor(
    private readonly next: AuditLog | undefined,
    private readonly perServer = RECENT_CALLS_PER_SERVER,
  ) {}

  record(entry: AuditRecord): void {
    let list = this.#byServer.get(entry.server);
    if (!list) this.#byServer.set(entry.server, (list = []));
    list.push(entry);
    if (list.length > this.perServer) list.splice(0, list.length - this.perServer);
    this.next?.record(entry);
  }

  /** The server's recent records, newest first. */
  of(server: string): AuditRecord[] {
    return [...(this.#byServer.get(server) ?? [])].reverse();
  }

  close(): Promise<void> {
    return this.next?.close() ?? Promise.resolve();
  }
}
