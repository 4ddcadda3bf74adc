/**
 * The `per-session` and `shared` lifecycles, for any kind of launcher: one instance (a container,
 * an upstream session) per server version and client session, or one per server version for a
 * `shared` server (any other lifecycle is kept per session: a remote has no per-call instances). An instance is opened on first acquire and kept for later ones; it is closed
 * when its session ends, when it sits idle too long, when its version is retired (at once if idle,
 * else when its last lease is released), and on close. An instance that died is replaced on the
 * next acquire. What an instance is, and how it is opened and closed, is the launcher's business.
 */
import type { RegistryServer } from "../registry/types.js";
import { lifecycleOf } from "../registry/types.js";
import { LaunchError } from "./errors.js";

/** Opens a new instance of the server version for a client session ("" for a shared server). */
export type OpenInstance<I> = (sessionKey: string) => Promise<I>;

export interface SessionPoolOptions<I> {
  /** False once the instance died or was closed elsewhere: the next acquire replaces it. */
  alive(instance: I): boolean;
  /** Ends an instance the pool no longer holds. Called at most once per instance. */
  close(instance: I, why: string): Promise<void> | void;
  /** A per-session instance idle this long is closed. */
  idleMs: number;
  /** Whether an idle `shared` instance expires too (default false: it lives until retired). */
  expireShared?: boolean;
}

/** One acquire's hold on a pooled instance. */
export interface PooledInstance<I> {
  readonly instance: I;
  /** True when the instance was there (or already starting) before this acquire. */
  readonly reused: boolean;
  /** Gives the instance back (idempotent); the pool then keeps, expires or retires it. */
  release(): void;
}

interface Entry<I> {
  readonly group: Group<I>;
  readonly key: string;
  /** The instance as opened. */
  readonly opened: Promise<I>;
  /** The instance as acquirers get it: rejects when the pool closed while it opened. */
  readonly pending: Promise<I>;
  /** Holds not yet released. */
  active: number;
  idleTimer: NodeJS.Timeout | undefined;
  retireWhenIdle: boolean;
  ended: boolean;
}

interface Group<I> {
  readonly server: RegistryServer;
  /** By client session id ("" for a `shared` server). */
  readonly entries: Map<string, Entry<I>>;
  retired: boolean;
}

export class SessionPool<I> {
  private readonly groups = new Map<string, Group<I>>();
  private closed = false;

  constructor(private readonly options: SessionPoolOptions<I>) {}

  /** The session's instance of the server version, opened with `open` if there is none or it died. */
  async acquire(server: RegistryServer, sessionId: string, open: OpenInstance<I>): Promise<PooledInstance<I>> {
    if (this.closed) throw closedError();
    const group = this.group(server);
    group.retired = false;
    const key = lifecycleOf(server) === "shared" ? "" : sessionId;
    let entry: Entry<I> | undefined;
    let reused = true;
    while (!entry) {
      const existing = group.entries.get(key);
      if (!existing) {
        entry = this.openEntry(group, key, open);
        reused = false;
        break;
      }
      const instance = await existing.pending.catch(() => undefined);
      if (instance !== undefined && !existing.ended && this.options.alive(instance)) {
        entry = existing;
        break;
      }
      // Dead (or never started): forget it and look again; a concurrent acquire may have replaced it already.
      this.end(existing, "died; restarting");
    }
    const instance = await entry.pending;
    entry.active += 1;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    const held = entry;
    let released = false;
    return {
      instance,
      reused,
      release: () => {
        if (released) return;
        released = true;
        held.active -= 1;
        this.released(held, instance);
      },
    };
  }

  /** Closes the instances of that client session (not those of shared servers). */
  async endSession(sessionId: string): Promise<void> {
    const ends: Array<Promise<void>> = [];
    for (const group of this.groups.values()) {
      if (lifecycleOf(group.server) === "shared") continue;
      const entry = group.entries.get(sessionId);
      if (entry) ends.push(this.end(entry, "session ended"));
    }
    await Promise.all(ends);
  }

  /** Idle instances of that version close now, busy ones when their last lease is released. */
  async retire(server: RegistryServer): Promise<void> {
    const group = this.groups.get(server.hash);
    if (!group) return;
    group.retired = true;
    const ends: Array<Promise<void>> = [];
    for (const entry of [...group.entries.values()]) {
      await entry.pending.catch(() => undefined);
      if (entry.active === 0) ends.push(this.end(entry, "retired"));
      else entry.retireWhenIdle = true;
    }
    await Promise.all(ends);
    this.forgetIfEmpty(group);
  }

  /** Whether the pool holds (or may still hold) instances of the version: false once it was retired and emptied. */
  tracks(server: RegistryServer): boolean {
    return this.groups.has(server.hash);
  }

  /** Closes every instance; later acquires fail with LAUNCHER_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const ends: Array<Promise<void>> = [];
    for (const group of this.groups.values()) for (const entry of [...group.entries.values()]) ends.push(this.end(entry, "launcher closed"));
    await Promise.all(ends);
  }

  private group(server: RegistryServer): Group<I> {
    let group = this.groups.get(server.hash);
    if (!group) {
      group = { server, entries: new Map(), retired: false };
      this.groups.set(server.hash, group);
    }
    return group;
  }

  private openEntry(group: Group<I>, key: string, open: OpenInstance<I>): Entry<I> {
    const opened = open(key);
    const pending = opened.then((instance) => {
      if (!this.closed) return instance;
      void this.end(entry, "launcher closed");
      throw closedError();
    });
    const entry: Entry<I> = { group, key, opened, pending, active: 0, idleTimer: undefined, retireWhenIdle: false, ended: false };
    group.entries.set(key, entry);
    pending.catch(() => this.forget(entry));
    return entry;
  }

  private released(entry: Entry<I>, instance: I): void {
    if (entry.active > 0 || entry.ended) return;
    if (!this.options.alive(instance)) {
      void this.end(entry, "died");
      return;
    }
    if (this.closed || entry.retireWhenIdle || entry.group.retired) {
      void this.end(entry, "retired");
      return;
    }
    if (lifecycleOf(entry.group.server) !== "shared" || this.options.expireShared) {
      entry.idleTimer = setTimeout(() => {
        if (entry.active === 0) void this.end(entry, "session idle");
      }, this.options.idleMs);
      entry.idleTimer.unref();
    }
  }

  /** Forgets the entry and closes its instance once it has one. Idempotent. */
  private end(entry: Entry<I>, why: string): Promise<void> {
    if (entry.ended) return Promise.resolve();
    entry.ended = true;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    this.forget(entry);
    return entry.opened.then(
      (instance) => this.options.close(instance, why),
      () => undefined,
    );
  }

  private forget(entry: Entry<I>): void {
    const { group } = entry;
    if (group.entries.get(entry.key) === entry) group.entries.delete(entry.key);
    this.forgetIfEmpty(group);
  }

  private forgetIfEmpty(group: Group<I>): void {
    if (group.retired && group.entries.size === 0 && this.groups.get(group.server.hash) === group) this.groups.delete(group.server.hash);
  }
}

function closedError(): LaunchError {
  return new LaunchError("LAUNCHER_CLOSED", "the launcher is shutting down", "Retry once the daemon is back.");
}
