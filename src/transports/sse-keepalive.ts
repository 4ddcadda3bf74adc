/**
 * A comment line on an idle event stream every so often. Clients give up on a response body that
 * stays silent too long (Node's fetch, which the MCP SDK client uses, after 300 s: measured, a
 * silent stream errors with UND_ERR_BODY_TIMEOUT at 300.9 s), so a session with nothing to say
 * would otherwise be dropped. SSE comments (`: ...`) are ignored by every client.
 */
import type { ServerResponse } from "node:http";

/** The headers of every event-stream answer. */
export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" } as const;

/** Default interval: well under any client's body timeout. */
export const SSE_KEEPALIVE_MS = 25_000;

export function keepStreamAlive(res: ServerResponse, everyMs: number = SSE_KEEPALIVE_MS): void {
  const timer = setInterval(() => {
    if (!res.writableEnded && !res.destroyed) res.write(": keepalive\n\n");
  }, everyMs);
  timer.unref();
  res.once("close", () => clearInterval(timer));
}
