/**
 * Reading a request body with a size limit, so that a client sending too much still reads the 413.
 *
 * Destroying the request as soon as it passes the limit resets the connection before the client has
 * read any answer (fetch reports a network error, not a 413). Instead the rest of the body is read
 * and dropped (never buffered) and the error is raised when it ends, so the answer goes out on a
 * connection the client is no longer writing to. A body that goes on far past the limit is not
 * drained to its end: the error is raised at once (clients such as fetch and curl read an early
 * answer). How long a body may take is bounded by the HTTP server's request timeout, not here.
 */
import type { IncomingMessage } from "node:http";

/** An HTTP error to answer with: its status and a message that says what to do. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (e.g. `retry-after`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** How far past the limit a body is read and dropped before the 413 goes out anyway. */
export const DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * The body's bytes; rejects with an HttpError 413 (`connection: close`) once the body has ended
 * past `limit`, or at once when it goes on `DRAIN_BYTES` further.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const tooLarge = (): HttpError =>
      new HttpError(413, `request body larger than ${limit} bytes; send less (large results and files belong in resources, not in a request)`, { connection: "close" });
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (chunks.length > 0) chunks.length = 0; // nothing of it will be used
      if (size > limit + DRAIN_BYTES) settle(() => reject(tooLarge()));
    });
    req.on("end", () => settle(() => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks, size)))));
    req.on("error", (error) => settle(() => reject(error)));
    req.on("close", () => settle(() => reject(new Error("the client closed the connection before the request body ended"))));
  });
}

/** The body parsed as JSON (`undefined` when empty); a 400 when it is not JSON. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readRequestBody(req, limit)).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "request body is not valid JSON; send one JSON-RPC message or a batch (array) of them");
  }
}
