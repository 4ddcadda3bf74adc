/**
 * Serving a web-standard (`fetch`-style) handler, as the SDK v2's `createMcpHandler` makes, on
 * node:http: one request (`serveFetch`), or a whole server on 127.0.0.1 (`listenFetch`). Used by
 * the conformance upstream, the tests' 2026 upstreams and the eras bench.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A web-standard handler on a node:http request: the body in, the (possibly streamed) response out. */
export async function serveFetch(req: IncomingMessage, res: ServerResponse, origin: string, fetchHandler: (request: Request) => Promise<Response>): Promise<void> {
  const aborted = new AbortController();
  res.on("close", () => aborted.abort());
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, item);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
  const response = await fetchHandler(new Request(new URL(req.url ?? "/", origin), { method: req.method ?? "GET", headers, body, signal: aborted.signal }));
  res.writeHead(response.status, [...response.headers].flat());
  if (!response.body) return void res.end();
  // An event stream's headers go out now, before its first event.
  res.flushHeaders();
  const reader = response.body.getReader();
  aborted.signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch (error) {
    if (!aborted.signal.aborted) throw error;
  }
  res.end();
}

export interface ListenFetchOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** A request that failed in the handler (it gets a 500, or its connection is destroyed). */
  onError?: (error: Error) => void;
  /** Sees every request before the handler (e.g. to count what arrives). */
  onRequest?: (req: IncomingMessage) => void;
}

/** Serves `fetchHandler` on 127.0.0.1 until `close` (which also closes open connections). */
export async function listenFetch(fetchHandler: (request: Request) => Promise<Response>, options: ListenFetchOptions = {}): Promise<{ origin: string; close(): Promise<void> }> {
  let origin = "http://127.0.0.1";
  const http = createServer((req, res) => {
    options.onRequest?.(req);
    serveFetch(req, res, origin, fetchHandler).catch((error: unknown) => {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    origin,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
