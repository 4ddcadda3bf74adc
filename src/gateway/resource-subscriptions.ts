/**
 * `resources/subscribe` through the gateway: the subscription is made on the upstream instance
 * that serves the caller (its per-session or shared instance, or its remote session), and the
 * upstream's `notifications/resources/updated` for that URI go to every caller subscribed to it
 * there, under the URI the caller knows. A per-call container ends with its call, so it cannot
 * hold a subscription: the error says which lifecycle can.
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
  readonly #active = new Map<string, { stop(): void }>();

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
    const client = await this.#request(routes, "resources/subscribe", uri, signal);
    this.#active.set(key, { stop: listen(client, uri, listener) });
    return {};
  }

  async unsubscribe(routes: ServerRoutes, uri: string, signal?: AbortSignal): Promise<Record<string, never>> {
    const key = `${routes.server.hash} ${uri}`;
    const active = this.#active.get(key);
    if (!active) return {};
    active.stop();
    this.#active.delete(key);
    await this.#request(routes, "resources/unsubscribe", uri, signal);
    return {};
  }

  /** Stops forwarding everything (the session ended; its instances go with it). */
  close(): void {
    for (const active of this.#active.values()) active.stop();
    this.#active.clear();
  }

  async #request(routes: ServerRoutes, method: "resources/subscribe" | "resources/unsubscribe", uri: string, signal?: AbortSignal): Promise<UpstreamClient> {
    // resources/subscribe is a 2025 method: the subscription is held on a 2025 session (a 2026-only upstream refuses it).
    const lease = await this.launcher.acquire(routes.server, { sessionId: this.sessionId, era: "legacy", ...(signal ? { signal } : {}) });
    try {
      await lease.run((client, runSignal) => client.request({ method, params: { uri } }, EmptyResultSchema, { signal: runSignal }), signal);
      return lease.client;
    } finally {
      lease.release();
    }
  }
}
