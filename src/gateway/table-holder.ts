import type { RoutingTable } from "./routing-table.js";

export type TableListener = (next: RoutingTable, previous: RoutingTable) => void;

/**
 * Holds the current routing table. `swap` replaces one reference and tells every subscriber
 * (each connected client session sends its list_changed notifications); a request that already
 * read `current()` keeps that table until it ends.
 */
export class TableHolder {
  private table: RoutingTable;
  private readonly listeners = new Set<TableListener>();

  constructor(initial: RoutingTable) {
    this.table = initial;
  }

  current(): RoutingTable {
    return this.table;
  }

  swap(next: RoutingTable): RoutingTable {
    const previous = this.table;
    this.table = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next, previous);
      } catch {
        // a session that cannot be told is closing; it must not stop the others
      }
    }
    return previous;
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: TableListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
