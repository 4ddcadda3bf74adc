/**
 * The overview, live: the reload history fed by every sync status, and the open event streams of
 * the console's overview pages, each sent the whole overview when the status or the routing table
 * changes (once per burst of changes), and `signed-out` when its session ends.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TableHolder } from "../gateway/table-holder.js";
import type { SyncStatus } from "../sync/reconciler.js";
import { SSE_HEADERS, keepStreamAlive } from "../transports/sse-keepalive.js";
import { SECURITY_HEADERS } from "./console-http.js";
import type { Overview } from "./overview.js";
import { ReloadHistory, overviewOf } from "./overview.js";

export interface OverviewStreamOptions {
  status(): SyncStatus;
  onStatus(listener: (status: SyncStatus) => void): () => void;
  holder: TableHolder;
  /** An idle stream gets a comment this often (default 25 s). */
  keepAliveMs?: number;
}

export class OverviewStream {
  readonly #history = new ReloadHistory();
  readonly #streams = new Set<ServerResponse>();
  readonly #off: (() => void)[];
  #pending: NodeJS.Timeout | undefined;

  constructor(private readonly options: OverviewStreamOptions) {
    this.#off = [
      options.onStatus((status) => {
        this.#history.observe(status);
        this.#broadcast();
      }),
      options.holder.subscribe(() => this.#broadcast()),
    ];
    this.#history.observe(options.status());
  }

  overview(): Overview {
    return overviewOf(this.options.status(), this.options.holder.current(), this.#history.reloads);
  }

  /** Answers with an event stream; `onEnd` registers what ends it with its session. */
  open(req: IncomingMessage, res: ServerResponse, onEnd: (end: () => void) => () => void): void {
    res.writeHead(200, { ...SECURITY_HEADERS, ...SSE_HEADERS });
    res.write(frame(this.overview()));
    this.#streams.add(res);
    keepStreamAlive(res, this.options.keepAliveMs);
    const detach = onEnd(() => res.end("event: signed-out\ndata: {}\n\n"));
    res.once("close", () => {
      this.#streams.delete(res);
      detach();
    });
    req.once("close", () => res.end());
  }

  close(): void {
    for (const off of this.#off) off();
    clearTimeout(this.#pending);
    for (const res of this.#streams) res.end();
  }

  /** Every change reaches open overviews once, a moment after a burst of changes settles. */
  #broadcast(): void {
    if (this.#pending || this.#streams.size === 0) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      const text = frame(this.overview());
      for (const res of this.#streams) res.write(text);
    }, 50);
    this.#pending.unref();
  }
}

function frame(overview: Overview): string {
  return `event: overview\ndata: ${JSON.stringify(overview)}\n\n`;
}
