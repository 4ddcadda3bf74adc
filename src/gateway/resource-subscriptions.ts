/**
 * `resources/subscribe` through the gateway: the subscription is made on the upstream instance
 * that serves the caller (its per-session or shared instance, or its remote session), and the
 * upstream's `notifications/resources/updated` for that URI go to every caller subscribed to it
 * there, under the URI the caller knows. A 2025 upstream is asked with `resources/subscribe`; a
 * 2026-only one (no such method) gets a `subscriptions/listen` stream for the URI, held with its
 * lease until the caller unsubscribes. A per-call container ends with its call, so it cannot hold
 * a subscription: the error says which lifecycle can.
 */
import { EmptyResultSchema, ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { launcherKind } from "../launch/composite-launcher.js";
import type { Launcher, UpstreamClient } from "../launch/launcher.js";
import { lifecycleOf } from "../registry/types.js";
import type { ServerRoutes } from "./routing-table.js";

/** Called with the upstream's URI when it changed. */
export type UpdateListener = (uri: string) => void;

/** Per upstream client: URI -> the callers listening. */
const listeners = new WeakMap<UpstreamClient, Map<string, Set<UpdateListener>>>();

function listen(client: UpstreamClient, uri: string, listener: UpdateListener): () => void {
  let byUri = listeners.get(client);
  if (!byUri) {
    const map = new Map<string, Set<UpdateListener>>();
    byUri = map;
    listeners.set(client, map);
    client.onNotification("notifications/resources/updated", (notification) => {
      const uri = notification.params?.uri;
      if (typeof uri === "string") for (const l of map.get(uri) ?? []) l(uri);
    });
  }
  const set = byUri.get(uri) ?? new Set<UpdateListener>();
  byUri.set(uri, set);
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) byUri?.delete(uri);
  };
}

/** One caller's subscriptions (a 2025 session), ended with it. */
export class CallerSubscriptions {
  readonly #active = new Map<string, { stop(): void; stream: boolean }>();

  constructor(
    private readonly launcher: Launcher,
    private readonly sessionId: string,
    /** At most this many at once per caller. */
    private readonly max = 64,
  ) {}

  async subscribe(routes: ServerRoutes, uri: string, listener: UpdateListener, signal?: AbortSignal): Promise<Record<string, never>> {
    const key = `${routes.server.hash} ${uri}`;
    if (this.#active.has(key)) return {};
    if (launcherKind(routes.server) === "docker" && lifecycleOf(routes.server) === "per-call") {
      throw new McpError(ErrorCode.InvalidRequest, `server "${routes.server.prefix}" runs a fresh container per call, which cannot hold a subscription; its registry file needs router.lifecycle per-session or shared for resources/subscribe`);
    }
    if (this.#active.size >= this.max) throw new McpError(ErrorCode.InvalidRequest, `at most ${this.max} resource subscriptions per session; unsubscribe from one first`);
    const lease = await this.launcher.acquire(routes.server, { sessionId: this.sessionId, era: "legacy", ...(signal ? { signal } : {}) });
    if (lease.client.era === "legacy" || !lease.client.watchResource) {
      try {
        await lease.run((client, runSignal) => client.request({ method: "resources/subscribe", params: { uri } }, EmptyResultSchema, { signal: runSignal }), signal);
      } finally {
        lease.release();
      }
      this.#active.set(key, { stop: listen(lease.client, uri, listener), stream: false });
      return {};
    }
    // A 2026-only upstream: a listen stream for the URI, on a lease kept until unsubscribe.
    const client = lease.client;
    const stopListening = listen(client, uri, listener);
    let watch: { close(): Promise<void> };
    try {
      watch = await lease.run(() => client.watchResource!(uri), signal);
    } catch (error) {
      stopListening();
      lease.release();
      throw error;
    }
    this.#active.set(key, {
      stream: true,
      stop: () => {
        stopListening();
        void watch.close().finally(() => lease.release());
      },
    });
    return {};
  }

  async unsubscribe(routes: ServerRoutes, uri: string, signal?: AbortSignal): Promise<Record<string, never>> {
    const key = `${routes.server.hash} ${uri}`;
    const active = this.#active.get(key);
    if (!active) return {};
    active.stop();
    this.#active.delete(key);
    if (!active.stream) await this.#unsubscribe(routes, uri, signal);
    return {};
  }

  /** Stops forwarding everything (the session ended; its instances go with it). */
  close(): void {
    for (const active of this.#active.values()) active.stop();
    this.#active.clear();
  }

  async #unsubscribe(routes: ServerRoutes, uri: string, signal?: AbortSignal): Promise<void> {
    const lease = await this.launcher.acquire(routes.server, { sessionId: this.sessionId, era: "legacy", ...(signal ? { signal } : {}) });
    try {
      await lease.run((client, runSignal) => client.request({ method: "resources/unsubscribe", params: { uri } }, EmptyResultSchema, { signal: runSignal }), signal);
    } finally {
      lease.release();
    }
  }
}
