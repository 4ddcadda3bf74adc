/**
 * Signed-in console sessions, held in memory: an id (the cookie's value), the principal (the API
 * key it signed in with, named by its id, or anonymous with auth off), a CSRF token, and when it was last
 * used. A session unused for `idleMs` ends; so does one signed out. Ending a session runs what was
 * attached to it (an open event stream is closed). At most `maxSessions` are held: signing in past
 * that ends the least recently used one.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal } from "../auth/principal.js";

export interface ConsoleSession {
  readonly id: string;
  /** Who signed in: an API key's principal (`key:<first 8 hex of its sha256>`), or anonymous when auth is off. */
  readonly principal: Principal;
  readonly csrfToken: string;
  lastSeen: number;
}

export interface ConsoleSessionsOptions {
  idleMs: number;
  maxSessions?: number;
  now?: () => number;
}

export const DEFAULT_CONSOLE_IDLE_MS = 30 * 60_000;
export const DEFAULT_CONSOLE_MAX_SESSIONS = 1000;

export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #onEnd = new Map<string, Set<() => void>>();
  readonly #now: () => number;
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly options: ConsoleSessionsOptions) {
    this.#now = options.now ?? Date.now;
    // Expiry is also checked on every lookup; the sweep only frees memory and closes streams.
    this.#sweep = setInterval(() => this.sweep(), Math.max(1000, Math.min(60_000, Math.floor(options.idleMs / 4))));
    this.#sweep.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  create(principal: Principal): ConsoleSession {
    const max = this.options.maxSessions ?? DEFAULT_CONSOLE_MAX_SESSIONS;
    while (this.#sessions.size >= max) {
      // The Map keeps insertion order and `touch` re-inserts: the first is the least recently used.
      const oldest = this.#sessions.keys().next().value as string;
      this.end(oldest);
    }
    const session: ConsoleSession = { id: token(), principal, csrfToken: token(), lastSeen: this.#now() };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, marked as used now; undefined when unknown or expired. */
  touch(id: string | undefined): ConsoleSession | undefined {
    const session = this.peek(id);
    if (!session) return undefined;
    session.lastSeen = this.#now();
    this.#sessions.delete(session.id);
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, without counting this as use (event streams). */
  peek(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (this.#now() - session.lastSeen >= this.options.idleMs) {
      this.end(id);
      return undefined;
    }
    return session;
  }

  /** Runs `listener` once when the session ends (sign-out, expiry, eviction, close); returns the detach. */
  onEnd(id: string, listener: () => void): () => void {
    let set = this.#onEnd.get(id);
    if (!set) this.#onEnd.set(id, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  end(id: string): void {
    this.#sessions.delete(id);
    const listeners = this.#onEnd.get(id);
    this.#onEnd.delete(id);
    for (const listener of listeners ?? []) listener();
  }

  sweep(): void {
    for (const id of [...this.#sessions.keys()]) this.peek(id);
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }
}

/** Whether `presented` is the session's CSRF token (constant time). */
export function csrfMatches(session: ConsoleSession, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

function token(): string {
  return randomBytes(32).toString("base64url");
}
