/** Serving a web-standard (`fetch`-style) MCP handler, as the SDK v2's `createMcpHandler` makes, on node:http. */
import type { IncomingMessage, ServerResponse } from "node:http";

export /** A web-standard handler on a node:http request: the body in, the (possibly streamed) response out. */
async function serveFetch(req: IncomingMessage, res: ServerResponse, origin: string, fetchHandler: (request: Request) => Promise<Response>): Promise<void> {
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
